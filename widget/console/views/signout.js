// Sign out while holding chats: a modal dialog says what will happen to them (live chats go
// back to the front of the queue with the whole conversation, or to another queue the agent
// picks; wrap-ups close without notes) and asks to confirm. Nothing held: sign out at once.
import { h, nextId, setText, show } from "../dom.js";
import { customerLabel } from "../format.js";
import { handOn, liveChats, otherQueues, wrapUps } from "../signout.js";

function plural(n, one, many) {
  return `${n} ${n === 1 ? one : many}`;
}

export function createSignOutDialog({ conn, store, onSignedOut }) {
  const titleId = nextId("signout-title");
  const summary = h("p", { part: "signout-summary", class: "signout__text" });
  const names = h("ul", { part: "signout-chats", class: "signout__chats" });
  const wrapNote = h("p", { class: "signout__text", hidden: true });
  const selectId = nextId("signout-queue");
  const select = h("select", { id: selectId, part: "signout-queue", class: "field" });
  const transferRow = h(
    "p",
    { class: "signout__transfer" },
    h("label", { for: selectId, class: "label", text: "Hand them on to" }),
    select,
  );
  const error = h("p", { class: "signout__error", role: "alert", hidden: true });
  const cancel = h("button", { type: "button", part: "signout-cancel", class: "btn", value: "cancel" }, "Stay signed in");
  const confirm = h("button", { type: "button", part: "signout-confirm", class: "btn btn--danger" }, "Hand on and sign out");
  const el = h(
    "dialog",
    { part: "signout-dialog", class: "signout", "aria-labelledby": titleId },
    h("h2", { id: titleId, class: "signout__title", text: "Sign out?" }),
    summary,
    names,
    transferRow,
    wrapNote,
    error,
    h("div", { class: "signout__actions" }, cancel, confirm),
  );

  function fill() {
    const live = liveChats(store);
    const wrapping = wrapUps(store);
    show(summary, live.length > 0);
    show(names, live.length > 0);
    if (live.length) {
      setText(
        summary,
        `You have ${plural(live.length, "live chat", "live chats")}. If you sign out, ` +
          `${live.length === 1 ? "it goes" : "they go"} back to the front of the queue, and the next agent sees the whole conversation.`,
      );
      names.replaceChildren(...live.map((entry) => h("li", { text: customerLabel(entry.customer) })));
    }
    const queues = live.length ? otherQueues(store) : [];
    select.replaceChildren(
      h("option", { value: "", text: "the front of the queue they were in" }),
      ...queues.map((q) => h("option", { value: q, text: `the ${q} queue (transfer)` })),
    );
    show(transferRow, queues.length > 0);
    setText(wrapNote, `${plural(wrapping.length, "chat", "chats")} waiting for wrap-up notes will be closed without notes.`);
    show(wrapNote, wrapping.length > 0);
    show(error, false);
    renderConfirm();
  }

  function renderConfirm() {
    setText(confirm, liveChats(store).length === 0 ? "Sign out" : select.value ? "Transfer and sign out" : "Hand on and sign out");
  }

  async function leave(transferTo = "") {
    confirm.setAttribute("aria-busy", "true");
    const ack = await handOn({ conn, store, transferTo });
    confirm.removeAttribute("aria-busy");
    const code = ack.error && ack.error.code;
    if (!ack.ok && code !== "offline" && code !== "timeout") {
      setText(error, `Could not hand your chats on: ${ack.error.message || code}. Try again, or stay signed in.`);
      show(error, true);
      return;
    }
    if (el.open) el.close();
    onSignedOut();
  }

  select.addEventListener("change", renderConfirm);
  cancel.addEventListener("click", () => el.close());
  confirm.addEventListener("click", () => {
    if (confirm.getAttribute("aria-busy") !== "true") leave(select.value);
  });

  return {
    el,
    // the header's Sign out: ask when anything is held, otherwise sign out at once
    ask() {
      if (!liveChats(store).length && !wrapUps(store).length) {
        leave();
        return;
      }
      fill();
      if (!el.open) el.showModal();
      cancel.focus();
    },
    destroy() {
      if (el.open) el.close();
      el.remove();
    },
  };
}
