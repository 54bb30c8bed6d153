// The conversation for the selected session: header with End, the message log (the whole
// transcript then live chat, keyed by seq, each rendered once and in order), "Customer is
// typing…", and the composer, or the wrap-up form once the chat is over.
import { h, nextId, reconcile, setAttr, setText, show } from "../dom.js";
import { MAX_TEXT_CHARS } from "../../src/protocol.js";
import { customerLabel, stateLabel } from "../format.js";
import { createMessageView } from "./messages.js";
import { createWrapUp } from "./wrapup.js";
import { createTypingSender } from "../typing.js";
import { createConfirm } from "./confirm.js";
import { createCannedPicker } from "./canned.js";
import { cannedFor, placeholderValues } from "../canned.js";

const NEAR_BOTTOM_PX = 80;
const COUNTER_FROM = MAX_TEXT_CHARS - 500;

export function createChat({ store, actions, config = {} }) {
  const titleId = nextId("conv-title");
  const inputId = nextId("reply");
  const hintId = nextId("reply-hint");

  const title = h("h2", { id: titleId, class: "conv__title", text: "Conversation" });
  const statePill = h("span", { class: "pill" });
  const end = h("button", { type: "button", part: "end", class: "btn btn--danger btn--small" }, "End session");
  const head = h("header", { class: "conv__head" }, title, statePill, h("span", { class: "conv__spacer" }), end);

  // role=log on a wrapper: the <ol> inside keeps its list semantics for the <li> messages
  const list = h("ol", { class: "messages__list" });
  const log = h(
    "div",
    { part: "messages", class: "messages", role: "log", "aria-live": "polite", "aria-labelledby": titleId, tabindex: "0" },
    list,
  );
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
    h("p", { id: hintId, class: "composer__hint" }, "Enter to send, Shift+Enter for a new line, / for canned responses.", counter),
  );

  const wrapUp = createWrapUp({
    dispositions: config.dispositions || [],
    onSubmit: (id, notes, disposition) => actions.wrapUp(id, notes, disposition),
  });
  // "/" in the reply box: the canned responses of the session's queue, placeholders filled
  const canned = createCannedPicker({
    input,
    getItems: () => cannedFor(config, store.selected ? store.selected.session.queue : ""),
    getValues: () => placeholderValues(store.selected),
  });
  composer.append(canned.el);
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

  // whether the log shows its latest line; kept when the log is resized (a call's video or
  // the customer's page opening above it shrinks it), so the latest line stays in view
  // (a scroll that comes with a change of height is the resize's, not the agent's: ignored)
  let pinned = true;
  let height = 0;
  log.addEventListener(
    "scroll",
    () => {
      if (log.clientHeight === height) pinned = nearBottom();
    },
    { passive: true },
  );
  const resizes =
    typeof ResizeObserver === "function"
      ? new ResizeObserver(() => {
          height = log.clientHeight;
          if (pinned) scrollToBottom();
        })
      : null;
  if (resizes) {
    resizes.observe(log);
    resizes.observe(list);
  }

  function renderMessages({ switching = false } = {}) {
    const entry = store.selected;
    if (!entry) {
      list.replaceChildren();
      views = new Map();
      return;
    }
    const stick = switching || pinned || nearBottom();
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
    reconcile(list, wanted);
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
      list.replaceChildren();
      views = new Map();
      input.value = id ? drafts.get(id) || "" : "";
      renderCounter();
    }
    renderState();
    renderMessages({ switching });
    if (switching) setTimeout(() => setAttr(log, "aria-live", "polite"), 50);
    if (switching) refocus();
  }

  // the control that had focus went away with its session (Submit wrap-up, End): focus
  // goes to the next session's reply box, its wrap-up form or its log, not to <body>
  let lastFocus = null;
  el.addEventListener("focusin", (event) => {
    lastFocus = event.target;
  });
  function refocus() {
    const gone = lastFocus && (!lastFocus.isConnected || lastFocus.disabled || lastFocus.closest("[hidden]"));
    const active = document.activeElement; // (a hidden element may still be it, briefly)
    if (!gone || (active && active !== document.body && active !== lastFocus)) return;
    lastFocus = null;
    const state = store.selected ? store.selected.session.state : null;
    if (state === "live") input.focus();
    else if (state === "wrap_up") wrapUp.notes.focus();
    else if (store.selected) log.focus();
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
  const confirm = createConfirm();
  el.append(confirm.el);
  end.addEventListener("click", async () => {
    const id = store.selectedId;
    if (!id) return;
    const who = customerLabel(store.get(id)?.customer);
    const sure = await confirm.ask({
      title: "End this session?",
      text: `The chat with ${who} ends for both of you, then you wrap it up.`,
      confirm: "End session",
    });
    if (sure && store.holds(id)) actions.end(id);
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
      if (resizes) resizes.disconnect();
      confirm.destroy();
      typing.stop();
      offs.forEach((off) => off());
    },
  };
}
