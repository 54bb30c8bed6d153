// One message as a list item: who, when, the text (always as text), and for the agent's
// own unacknowledged sends a pending / failed status with Retry.
import { h, setAttr, setText } from "../dom.js";
import { formatClock, isoTime } from "../format.js";
import { linkify } from "../../src/ui/links.js";

const ROLES = new Set(["customer", "assistant", "agent", "supervisor", "system"]);

function who(message, { agentId, customerName }) {
  const { role, id, name } = message.sender;
  if (role === "agent" && agentId && id === agentId) return "You";
  if (role === "customer") return name || customerName || "Customer";
  if (role === "assistant") return name || "Assistant";
  if (role === "supervisor") return `${name || id || "Supervisor"} (supervisor)`;
  if (role === "system") return "";
  return name || id || role;
}

// a rendered message: {el, setConfirmed(message), setPending(pending)}
export function createMessageView(message, context, actions) {
  const role = message.sender.role;
  const whoText = who(message, context);
  const time = h("time", { class: "msg__time" });
  const el = h(
    "li",
    {
      part: "message",
      class: `msg msg--${ROLES.has(role) ? role : "other"}${whoText === "You" ? " msg--own" : ""}`,
      "data-role": role,
    },
    h(
      "div",
      { class: "msg__meta" },
      whoText ? h("span", { class: "msg__who", text: whoText }) : h("span", { class: "sr-only", text: "System: " }),
      time,
    ),
    h("p", { class: "msg__text" }, linkify(message.text)), // http(s) links only, rel=noopener noreferrer
  );
  // status line of a pending send, made only while it is pending
  let foot = null;
  let status = null;
  let retry = null;

  function setTime(ms) {
    setAttr(time, "datetime", isoTime(ms) || null);
    setText(time, formatClock(ms));
  }

  function makeFoot() {
    status = h("span", { class: "msg__status" });
    retry = h(
      "span",
      { class: "msg__retry" },
      h("button", { type: "button", class: "btn btn--link", onclick: () => actions.retry(message.session_id, message.client_id) }, "Retry"),
      h("button", { type: "button", class: "btn btn--link", onclick: () => actions.discard(message.session_id, message.client_id) }, "Discard"),
    );
    foot = h("div", { class: "msg__foot" }, status, retry);
    el.append(foot);
  }

  return {
    el,
    setConfirmed(confirmed) {
      setAttr(el, "data-seq", String(confirmed.seq));
      setAttr(el, "data-pending", null);
      setAttr(el, "data-failed", null);
      if (foot) {
        foot.remove();
        foot = status = retry = null;
      }
      setTime(confirmed.ts);
    },
    setPending(pending) {
      if (!foot && actions) makeFoot();
      setAttr(el, "data-pending", "");
      const failed = pending.status === "failed";
      setAttr(el, "data-failed", failed ? "" : null);
      if (foot) {
        setText(status, failed ? `Not sent: ${pending.error}` : pending.error || "Sending…");
        retry.hidden = !failed;
      }
      setTime(pending.ts);
    },
  };
}
