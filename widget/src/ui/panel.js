// The chat panel (role=dialog): header with title, status line, End chat and close; the
// queue banner; the message list; typing; quick replies and "Talk to a person"; the
// rating form; "Start a new conversation"; the composer. render() follows the model.
import { SessionState } from "../protocol.js";
import { Connection } from "../session.js";
import { h, icon, show, setText, ICON_CLOSE } from "./dom.js";
import { createMessageList } from "./messages.js";
import { createComposer } from "./composer.js";
import { createCsat } from "./csat.js";
import { createWaiting, unavailable } from "./waiting.js";

const ESCALATE_LABEL = "Talk to a person";
const OVER = new Set([SessionState.WRAP_UP, SessionState.ENDED]);

export function statusText(model) {
  const s = model.session;
  if (model.connection === Connection.DOWN) return "Reconnecting…";
  if (!s) return "Connecting…";
  switch (s.state) {
    case SessionState.VIRTUAL:
      return "Virtual assistant";
    case SessionState.QUEUED:
      if (!unavailable(s)) return "Waiting for an agent";
      if (s.left_message_at) return "Message left";
      return s.availability.reason === "closed" ? "Closed right now" : "No one available right now";
    case SessionState.LIVE:
      return `Chatting with ${(s.agent && s.agent.name) || "an agent"}`;
    default:
      return "Chat ended";
  }
}

function typingText(senders) {
  const names = senders.map((s) => s.name || (s.role === "assistant" ? "Assistant" : "Agent"));
  if (!names.length) return "";
  return names.length === 1 ? `${names[0]} is typing…` : `${names.slice(0, -1).join(", ")} and ${names[names.length - 1]} are typing…`;
}

export function createPanel({ title, model, chat, calls, cobrowse, onClose }) {
  const status = h("p", { part: "status", class: "status", id: "dcs-status" });
  const endChat = () => {
    if (cobrowse) cobrowse.stop(); // closing the conversation stops co-browse first
    return chat.close();
  };
  const end = h("button", { part: "end", class: "head-btn", type: "button", onclick: () => busy(end, endChat()) }, "End chat");
  const closeBtn = h("button", { class: "head-btn x", type: "button", "aria-label": "Close chat", title: "Close chat", onclick: onClose }, icon(ICON_CLOSE));
  const header = h(
    "div",
    { class: "head" },
    h("div", { class: "head-text" }, h("h2", { class: "title", id: "dcs-title" }, title), status),
    end,
    closeBtn,
  );
  // the queue banner: place, wait, and "leave a message" when no one can serve the queue
  const waiting = createWaiting({ chat, onLeft: () => composer.focus() });
  // calls: Call and Video while live; the call code (loaded on demand) renders into callSlot
  const callStart = h("button", { part: "call-start", class: "chip", type: "button", onclick: () => calls.start(false) }, "Call");
  const videoStart = h("button", { part: "video-start", class: "chip", type: "button", onclick: () => calls.start(true) }, "Video");
  // co-browse: the customer may share the page unasked; the co-browse code (loaded on
  // demand) puts its consent prompts into cobrowseSlot
  const share = h("button", { part: "cobrowse-share", class: "chip", type: "button", onclick: () => busy(share, cobrowse.share()) }, "Share this page");
  const callRow = h("div", { class: "actions call-row", role: "group", "aria-label": "With the agent", hidden: true }, callStart, videoStart, share);
  const callSlot = h("div", { class: "call-slot" });
  const cobrowseSlot = h("div", { class: "cobrowse-slot" });
  const list = createMessageList();
  const typing = h("p", { part: "typing", class: "typing", "aria-live": "polite", hidden: true });
  const chips = h("div", { class: "actions", role: "group", "aria-label": "Suggested replies" });
  const escalate = h(
    "button",
    { part: "escalate", class: "chip person", type: "button", onclick: () => busy(escalate, chat.escalate()) },
    ESCALATE_LABEL,
  );
  const actions = h("div", { class: "actions" }, escalate);
  const csat = createCsat({
    onSubmit: (score, comment) =>
      chat.rate(score, comment).then((ack) => {
        if (ack.ok) ratedSession = model.id;
        return ack.ok;
      }),
  });
  const restart = h(
    "button",
    { part: "new-conversation", class: "primary restart", type: "button", onclick: () => chat.restart() },
    "Start a new conversation",
  );
  const composer = createComposer({ onSend: (text) => chat.send(text), onType: () => chat.typed() });
  const el = h(
    "div",
    { part: "panel", class: "panel", id: "dcs-panel", role: "dialog", "aria-label": title, "aria-describedby": "dcs-status", hidden: true },
    header,
    waiting.el,
    callRow,
    callSlot,
    cobrowseSlot,
    list.el,
    typing,
    chips,
    actions,
    csat.form,
    csat.thanks,
    restart,
    composer.el,
  );

  let shownSuggestions = "";
  let typingTimer = 0;
  let ratedSession = null;

  // keep a button disabled while its request is under way
  function busy(button, promise) {
    button.disabled = true;
    promise.then(() => {
      button.disabled = false;
      render();
    });
  }

  function pickSuggestion(text) {
    chat.send(text);
    composer.focus(); // the chips are about to go away: keep keyboard focus somewhere useful
  }

  function renderSuggestions() {
    const s = model.session;
    const last = model.latest();
    let items = [];
    if (s && s.state === SessionState.VIRTUAL && last && last.sender && last.sender.role === "assistant" && !model.pending.size) {
      items = (Array.isArray(last.suggestions) ? last.suggestions : [])
        .filter((t) => typeof t === "string" && t.trim() && t.trim().toLowerCase() !== ESCALATE_LABEL.toLowerCase())
        .slice(0, 6);
    }
    const key = JSON.stringify(items);
    if (key === shownSuggestions) return;
    shownSuggestions = key;
    chips.textContent = "";
    for (const text of items) {
      chips.append(h("button", { part: "suggestion", class: "chip", type: "button", onclick: () => pickSuggestion(text) }, text));
    }
    show(chips, items.length > 0);
  }

  function render() {
    const keepEnd = list.place(false); // the panel's parts may grow or shrink the list
    const s = model.session;
    const state = s ? s.state : null;
    const over = OVER.has(state);
    setText(status, statusText(model));
    status.setAttribute("data-conn", model.connection);
    status.toggleAttribute("data-ended", over);
    show(end, !!s && !over);
    waiting.render(s);
    const canCall = !!calls && state === SessionState.LIVE && !calls.active;
    const canShare = !!cobrowse && state === SessionState.LIVE && cobrowse.state === "idle";
    show(callStart, canCall);
    show(videoStart, canCall);
    show(share, canShare);
    show(callRow, canCall || canShare);
    show(escalate, state === SessionState.VIRTUAL);
    show(actions, state === SessionState.VIRTUAL);
    renderSuggestions();

    const typers = over ? [] : model.typers();
    setText(typing, typingText(typers));
    show(typing, typers.length > 0);
    clearTimeout(typingTimer);
    if (typers.length) typingTimer = setTimeout(render, 8500);

    const hadFocus = el.getRootNode().activeElement;
    const composerHadFocus = hadFocus && composer.el.contains(hadFocus);
    show(composer.el, !over && !waiting.offering);
    const rated = !!s && (!!s.csat || ratedSession === s.session_id);
    csat.show(over ? (rated ? "thanks" : "form") : null);
    // over for the customer once the agent ended it, though the agent may still wrap up
    show(restart, over);
    if (!over) csat.reset();
    if (composerHadFocus && waiting.offering) waiting.focus();
    if (composerHadFocus && over) {
      const target = csat.form.hidden ? restart : csat.form.querySelector("[tabindex='0']");
      if (target && !target.hidden) target.focus();
    }
    keepEnd();
  }

  return {
    el,
    list,
    render,
    callSlot,
    cobrowseSlot,
    focusInput() {
      if (!composer.el.hidden) composer.focus();
      else if (waiting.offering) waiting.focus();
      else (csat.form.hidden ? closeBtn : csat.form.querySelector("[tabindex='0']")).focus();
    },
  };
}
