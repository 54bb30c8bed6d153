// The conversation for the selected session: header with End, the message log (the whole
// transcript then live chat, keyed by seq, each rendered once and in order), "Customer is
// typing…", and the composer, or the wrap-up form once the chat is over.
import { h, nextId, reconcile, setAttr, setText, show } from "../dom.js";
import { MAX_TEXT_CHARS } from "../../src/protocol.js";
import { customerLabel, stateLabel } from "../format.js";
import { createMessageView } from "./messages.js";
import { createWrapUp } from "./wrapup.js";
import { createTypingSender } from "../typing.js";

const NEAR_BOTTOM_PX = 80;
const COUNTER_FROM = MAX_TEXT_CHARS - 500;

export function createChat({ store, actions }) {
  const titleId = nextId("conv-title");
  const inputId = nextId("reply");
  const hintId = nextId("reply-hint");

  const title = h("h2", { id: titleId, class: "conv__title", text: "Conversation" });
  const statePill = h("span", { class: "pill" });
  const end = h("button", { type: "button", part: "end", class: "btn btn--danger btn--small" }, "End session");
  const head = h("header", { class: "conv__head" }, title, statePill, h("span", { class: "conv__spacer" }), end);

  const log = h("ol", {
    part: "messages",
    class: "messages",
    role: "log",
    "aria-live": "polite",
    "aria-labelledby": titleId,
    tabindex: "0",
  });
  const typingEl = h("p", { part: "customer-typing", class: "typing", hidden: true, text: "Customer is typing…" });

  const input = h("textarea", {
    id: inputId,
    part: "input",
    class: "field composer__input",
    rows: "2",
    maxlength: String(MAX_TEXT_CHARS),
    "aria-describedby": hintId,
    placeholder: "Type a reply…",
  });
  const counter = h("span", { class: "composer__counter", "aria-live": "polite", hidden: true });
  const send = h("button", { type: "submit", part: "send", class: "btn btn--primary" }, "Send");
  const composer = h(
    "form",
    { class: "composer", novalidate: true },
    h("label", { for: inputId, class: "sr-only", text: "Reply to customer" }),
    input,
    h("div", { class: "composer__side" }, send),
    h("p", { id: hintId, class: "composer__hint" }, "Enter to send, Shift+Enter for a new line.", counter),
  );

  const wrapUp = createWrapUp({ onSubmit: (id, notes) => actions.wrapUp(id, notes) });
  const note = h("p", { class: "conv__note", hidden: true });
  const empty = h(
    "div",
    { class: "conv__empty" },
    h("p", { text: "No session selected." }),
    h("p", { text: "Accept a waiting customer from the queue, or pick one of your sessions." }),
  );
  const body = h("div", { class: "conv__body" }, head, log, typingEl, composer, wrapUp.el, note);
  const el = h("section", { class: "conversation", "aria-labelledby": titleId }, empty, body);

  const typing = createTypingSender((id, value) => actions.sendTyping(id, value));
  const drafts = new Map(); // session id -> unsent reply text
  const scrolls = new Map(); // session id -> scrollTop when we left it
  let views = new Map(); // "s:<seq>" or "p:<client_id>" -> message view
  let shownId = null;
  let shownState = null;

  function context() {
    const entry = store.selected;
    return { agentId: store.agent ? store.agent.id : "", customerName: entry ? entry.customer.name : "" };
  }

  function nearBottom() {
    return log.scrollHeight - log.scrollTop - log.clientHeight < NEAR_BOTTOM_PX;
  }

  function scrollToBottom() {
    log.scrollTop = log.scrollHeight;
  }

  function renderMessages({ switching = false } = {}) {
    const entry = store.selected;
    if (!entry) {
      log.replaceChildren();
      views = new Map();
      return;
    }
    const stick = switching || nearBottom();
    const ctx = context();
    const next = new Map();
    const wanted = [];
    let ownAdded = false;
    const sorted = [...entry.messages.values()].sort((a, b) => a.seq - b.seq);
    for (const message of sorted) {
      const key = `s:${message.seq}`;
      let view = views.get(key);
      if (!view && message.client_id && views.has(`p:${message.client_id}`)) {
        view = views.get(`p:${message.client_id}`); // our pending send, now stored: same element
        views.delete(`p:${message.client_id}`);
      }
      if (!view) view = createMessageView(message, ctx, null);
      view.setConfirmed(message);
      next.set(key, view);
      wanted.push(view.el);
    }
    for (const pending of entry.pending.values()) {
      const key = `p:${pending.client_id}`;
      let view = views.get(key);
      if (!view) {
        const shape = {
          session_id: entry.id,
          client_id: pending.client_id,
          sender: { role: "agent", id: ctx.agentId, name: "" },
          text: pending.text,
        };
        view = createMessageView(shape, ctx, actions);
        ownAdded = true;
      }
      view.setPending(pending);
      next.set(key, view);
      wanted.push(view.el);
    }
    views = next;
    reconcile(log, wanted);
    if (switching) {
      const saved = scrolls.get(entry.id);
      if (saved == null) scrollToBottom();
      else log.scrollTop = saved;
    } else if (stick || ownAdded) {
      scrollToBottom();
    }
  }

  function renderState() {
    const entry = store.selected;
    show(empty, !entry);
    show(body, Boolean(entry));
    if (!entry) {
      wrapUp.showFor(null);
      return;
    }
    const state = entry.session.state;
    setText(title, customerLabel(entry.customer));
    setText(statePill, stateLabel(state));
    setAttr(statePill, "data-state", state);
    const hadFocus = el.contains(document.activeElement) || document.activeElement === document.body;
    const live = state === "live";
    show(end, live);
    show(composer, live);
    if (!live) typing.stop();
    if (state === "wrap_up") {
      wrapUp.showFor(entry.id);
    } else {
      wrapUp.showFor(null);
    }
    let noteText = "";
    if (state === "ended") noteText = "This session has ended.";
    else if (state === "queued") noteText = "This session is back in the queue.";
    setText(note, noteText);
    show(note, Boolean(noteText));
    renderTyping();
    // the control the agent was using went away (End, or the composer): land on the form
    const changed = shownState !== null && shownState !== state && shownId === entry.id;
    if (changed && state === "wrap_up" && hadFocus) wrapUp.notes.focus();
    shownState = state;
  }

  function renderTyping() {
    const entry = store.selected;
    show(typingEl, Boolean(entry && entry.customerTyping && entry.session.state === "live"));
  }

  function renderCounter() {
    const length = input.value.length;
    show(counter, length >= COUNTER_FROM);
    setText(counter, length >= COUNTER_FROM ? ` ${length} / ${MAX_TEXT_CHARS}` : "");
  }

  function select() {
    const entry = store.selected;
    const id = entry ? entry.id : null;
    if (shownId && shownId !== id) {
      scrolls.set(shownId, log.scrollTop);
      drafts.set(shownId, input.value);
      typing.stop();
    }
    const switching = shownId !== id;
    shownId = id;
    shownState = null;
    if (switching) {
      // a rebuilt log is not news: keep the live region quiet while it fills
      setAttr(log, "aria-live", "off");
      log.replaceChildren();
      views = new Map();
      input.value = id ? drafts.get(id) || "" : "";
      renderCounter();
    }
    renderState();
    renderMessages({ switching });
    if (switching) setTimeout(() => setAttr(log, "aria-live", "polite"), 50);
  }

  function submitReply() {
    const id = store.selectedId;
    if (!id) return;
    if (actions.send(id, input.value)) {
      input.value = "";
      drafts.delete(id);
      renderCounter();
      typing.stop();
      scrollToBottom();
    }
    input.focus();
  }

  composer.addEventListener("submit", (event) => {
    event.preventDefault();
    submitReply();
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.altKey && !event.ctrlKey && !event.metaKey && !event.isComposing) {
      event.preventDefault();
      submitReply();
    }
  });
  input.addEventListener("input", () => {
    const id = store.selectedId;
    if (!id) return;
    drafts.set(id, input.value);
    renderCounter();
    typing.input(id, input.value);
  });
  end.addEventListener("click", () => {
    const id = store.selectedId;
    if (id) actions.end(id);
  });

  const offs = [
    store.on("selected", select),
    store.on("session", (id) => {
      if (id === store.selectedId) renderState();
    }),
    store.on("messages", (id) => {
      if (id === store.selectedId) renderMessages();
    }),
    store.on("typing", (id) => {
      if (id === store.selectedId) renderTyping();
    }),
    store.on("sessions", () => {
      for (const id of [...drafts.keys()]) if (!store.holds(id)) drafts.delete(id);
      for (const id of [...scrolls.keys()]) if (!store.holds(id)) scrolls.delete(id);
    }),
  ];
  select();

  return {
    el,
    focusInput() {
      const entry = store.selected;
      if (entry && entry.session.state === "live") input.focus();
    },
    destroy() {
      typing.stop();
      offs.forEach((off) => off());
    },
  };
}
