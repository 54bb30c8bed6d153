// The chat panel (role=dialog): header with logo, title, status line, End chat (which asks
// first) and close; the queue banner; the message list; typing; quick replies and "Talk to
// a person"; the rating form; "Start a new conversation"; the composer. render() follows
// the model, and when the control that had focus goes away, focus moves to what comes next.
import { SessionState } from "../protocol.js";
import { Connection } from "../session.js";
import { h, icon, show, setText, ICON_CLOSE } from "./dom.js";
import { createMessageList } from "./messages.js";
import { createComposer } from "./composer.js";
import { createCsat } from "./csat.js";
import { createWaiting, unavailable } from "./waiting.js";
import { safeImageUrl } from "./theme.js";

const OVER = new Set([SessionState.WRAP_UP, SessionState.ENDED]);

export function statusText(t, model) {
  const s = model.session;
  if (model.connection === Connection.DOWN) return t("status_reconnecting");
  if (!s) return t("status_connecting");
  switch (s.state) {
    case SessionState.VIRTUAL:
      return t("status_virtual");
    case SessionState.QUEUED:
      if (!unavailable(s)) return t("status_waiting");
      if (s.left_message_at) return t("status_left");
      return s.availability.reason === "closed" ? t("status_closed") : t("status_nobody");
    case SessionState.LIVE:
      return t("status_live", { name: (s.agent && s.agent.name) || t("an_agent") });
    default:
      return t("status_ended");
  }
}

function typingText(t, senders) {
  const names = senders.map((s) => s.name || (s.role === "assistant" ? t("assistant") : t("agent")));
  if (!names.length) return "";
  return names.length === 1
    ? t("typing_one", { name: names[0] })
    : t("typing_many", { names: names.slice(0, -1).join(", "), last: names[names.length - 1] });
}

// hidden, disabled or gone: focus there is lost
function unusable(node) {
  return !node || !node.isConnected || node.disabled || !!node.closest("[hidden]");
}

export function createPanel({ t, title, logo, model, chat, calls, cobrowse, onClose }) {
  const status = h("p", { part: "status", class: "status", id: "dcs-status" });
  const endChat = () => {
    if (cobrowse) cobrowse.stop(); // closing the conversation stops co-browse first
    return chat.close();
  };
  // End chat asks first, in a bar under the header: "Keep chatting" has focus (the safe choice)
  const end = h("button", { part: "end", class: "head-btn", type: "button", "aria-expanded": "false", "aria-controls": "dcs-end-confirm", onclick: () => askEnd(true) }, t("end_chat"));
  const endYes = h("button", { part: "end-confirm", class: "primary danger", type: "button", onclick: () => {
    askEnd(false);
    busy(end, endChat());
  } }, t("end_confirm_yes"));
  const endNo = h("button", { part: "end-cancel", class: "chip", type: "button", onclick: () => askEnd(false, true) }, t("end_confirm_no"));
  const confirmText = h("p", { id: "dcs-end-q", class: "confirm-q" }, t("end_confirm"));
  const confirm = h("div", { part: "end-dialog", id: "dcs-end-confirm", class: "confirm", role: "group", "aria-labelledby": "dcs-end-q", hidden: true }, confirmText, h("div", { class: "confirm-actions" }, endNo, endYes));
  confirm.addEventListener("keydown", (e) => {
    if (e.key === "Escape") {
      e.stopPropagation();
      askEnd(false, true);
    }
  });
  const closeBtn = h("button", { part: "close", class: "head-btn x", type: "button", "aria-label": t("close_chat"), title: t("close_chat"), onclick: onClose }, icon(ICON_CLOSE));
  const logoUrl = safeImageUrl(logo, document.baseURI);
  const header = h(
    "div",
    { class: "head" },
    logoUrl ? h("img", { part: "logo", class: "logo", src: logoUrl, alt: "", referrerpolicy: "no-referrer" }) : null,
    h("div", { class: "head-text" }, h("h2", { class: "title", id: "dcs-title" }, title), status),
    end,
    closeBtn,
  );
  // the queue banner: place, wait, and "leave a message" when no one can serve the queue
  const waiting = createWaiting({ t, chat, onLeft: () => composer.focus() });
  // calls: Call and Video while live; the call code (loaded on demand) renders into callSlot
  const callStart = h("button", { part: "call-start", class: "chip", type: "button", onclick: () => calls.start(false) }, t("call"));
  const videoStart = h("button", { part: "video-start", class: "chip", type: "button", onclick: () => calls.start(true) }, t("video"));
  // co-browse: the customer may share the page unasked; the co-browse code (loaded on
  // demand) puts its consent prompts into cobrowseSlot
  const share = h("button", { part: "cobrowse-share", class: "chip", type: "button", onclick: () => busy(share, cobrowse.share()) }, t("share_page"));
  const callRow = h("div", { class: "actions call-row", role: "group", "aria-label": t("with_agent"), hidden: true }, callStart, videoStart, share);
  const callSlot = h("div", { class: "call-slot" });
  const cobrowseSlot = h("div", { class: "cobrowse-slot" });
  const list = createMessageList({ t });
  const typing = h("p", { part: "typing", class: "typing", "aria-live": "polite", hidden: true });
  const chips = h("div", { class: "actions", role: "group", "aria-label": t("suggested") });
  const escalate = h(
    "button",
    { part: "escalate", class: "chip person", type: "button", onclick: () => busy(escalate, chat.escalate()) },
    t("talk_to_person"),
  );
  const actions = h("div", { class: "actions" }, escalate);
  const csat = createCsat({
    t,
    onSubmit: (score, comment) =>
      chat.rate(score, comment).then((ack) => {
        if (ack.ok) ratedSession = model.id;
        return ack.ok;
      }),
  });
  const restart = h(
    "button",
    { part: "new-conversation", class: "primary restart", type: "button", onclick: () => chat.restart() },
    t("new_conversation"),
  );
  const composer = createComposer({ t, onSend: (text) => chat.send(text), onType: () => chat.typed() });
  const el = h(
    "div",
    { part: "panel", class: "panel", id: "dcs-panel", role: "dialog", "aria-labelledby": "dcs-title", "aria-describedby": "dcs-status", hidden: true },
    header,
    confirm,
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
  let lastFocus = null; // the control in the panel that last had focus
  el.addEventListener("focusin", (e) => {
    lastFocus = e.composedPath()[0] || e.target;
  });

  function askEnd(open, refocus = false) {
    show(confirm, open);
    end.setAttribute("aria-expanded", String(open));
    if (open) endNo.focus();
    else if (refocus && !end.hidden) end.focus();
  }

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
        .filter((x) => typeof x === "string" && x.trim() && x.trim().toLowerCase() !== t("talk_to_person").toLowerCase())
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
    setText(status, statusText(t, model));
    status.setAttribute("data-conn", model.connection);
    status.toggleAttribute("data-ended", over);
    show(end, !!s && !over);
    if (end.hidden && !confirm.hidden) askEnd(false);
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
    setText(typing, typingText(t, typers));
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
    // the control that had focus went away (Talk to a person once queued, a chip, End chat):
    // focus goes to what the customer does next, not to the page's <body>
    const root = el.getRootNode();
    if (!el.hidden && lastFocus && el.contains(lastFocus) && unusable(lastFocus) && (!root.activeElement || unusable(root.activeElement))) {
      lastFocus = null;
      focusInput();
    }
    keepEnd();
  }

  function focusInput() {
    if (!composer.el.hidden) composer.focus();
    else if (waiting.offering) waiting.focus();
    else if (!csat.form.hidden) csat.form.querySelector("[tabindex='0']").focus();
    else if (!restart.hidden) restart.focus();
    else closeBtn.focus();
  }

  return {
    el,
    list,
    render,
    callSlot,
    cobrowseSlot,
    focusInput,
  };
}
