// The message list (role=log): each sequenced message once and in seq order, pending
// bubbles after them, small notices. Text is set with textContent only.
import { h } from "./dom.js";
import { lineText } from "./lines.js";
import { linkify } from "./links.js";

function when(ts) {
  try {
    return Number.isFinite(ts) ? new Date(ts).toLocaleString() : null;
  } catch (_) {
    return null;
  }
}

function bubble(t, role, name, text, extra) {
  const children = [];
  if (role === "customer") children.push(h("span", { class: "sr" }, t("you")));
  else if (name) children.push(h("div", { class: "name" }, name));
  children.push(h("div", { class: "text" }, linkify(text)));
  return h("div", { part: "message", class: "msg", "data-role": role, ...extra }, children);
}

export function createMessageList({ t }) {
  const el = h("div", {
    part: "messages",
    class: "log",
    role: "log",
    "aria-live": "polite",
    "aria-relevant": "additions",
    "aria-label": t("conversation"),
    tabindex: "0",
  });
  const bySeq = new Map(); // seq -> element
  const byClientId = new Map(); // client_id -> pending element

  const nearBottom = () => el.scrollHeight - el.scrollTop - el.clientHeight < 80;
  // when the list shrinks (a video or a prompt above it grows), the latest line stays in view
  // (measured with the height it had before a resize still to be observed: a scroll event
  // can come after the list shrank and before the observer says so)
  let atEnd = true;
  let seenHeight = 0;
  el.addEventListener("scroll", () => (atEnd = el.scrollHeight - el.scrollTop - (seenHeight || el.clientHeight) < 80), { passive: true });
  if (typeof ResizeObserver === "function") {
    new ResizeObserver(() => {
      if (atEnd) el.scrollTop = el.scrollHeight;
      seenHeight = el.clientHeight;
    }).observe(el);
  }
  const firstPending = () => el.querySelector("[data-pending]");

  // call before a change: returns what to call after it to keep following the end
  function place(stick) {
    const follow = stick || nearBottom();
    return () => follow && (el.scrollTop = el.scrollHeight);
  }

  return {
    el,

    add(m) {
      if (bySeq.has(m.seq)) return;
      const sender = m.sender || {};
      const role = ["customer", "assistant", "agent", "supervisor", "system"].includes(sender.role) ? sender.role : "system";
      const name = role === "system" || role === "customer" ? "" : String(sender.name || t(role) || "");
      const text = role === "system" ? lineText(t, m) : m.text; // in the customer's language
      const node = bubble(t, role, name, text, { "data-seq": String(m.seq), title: when(m.ts) });
      const scroll = place(role === "customer");
      // before the first message with a higher seq, else before the pending ones
      let before = null;
      let best = Infinity;
      for (const [seq, other] of bySeq) if (seq > m.seq && seq < best) (best = seq), (before = other);
      el.insertBefore(node, before || firstPending());
      bySeq.set(m.seq, node);
      scroll();
    },

    addPending(p) {
      if (byClientId.has(p.client_id)) return;
      const node = bubble(t, "customer", "", p.text, { "data-pending": "", "data-client-id": p.client_id });
      node.append(h("div", { class: "state", "aria-hidden": "true" }, t("sending")));
      const scroll = place(true);
      el.append(node);
      byClientId.set(p.client_id, node);
      scroll();
    },

    removePending(clientId) {
      const node = byClientId.get(clientId);
      if (node) node.remove();
      byClientId.delete(clientId);
    },

    notice(text) {
      const scroll = place(false);
      el.insertBefore(h("div", { part: "notice", class: "notice", role: "note" }, text), firstPending());
      scroll();
    },

    clear() {
      el.textContent = "";
      bySeq.clear();
      byClientId.clear();
    },

    place,

    scrollToEnd() {
      el.scrollTop = el.scrollHeight;
    },
  };
}
