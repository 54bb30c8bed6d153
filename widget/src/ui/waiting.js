// The queue banner while the customer waits for an agent: their place, the wait only when
// the server could estimate one from measured waits, and, when no one can serve the queue
// (no agent available, or outside opening hours), a form to leave a message for follow-up
// in this same chat. The text is a live region (role=status); the form's input is labelled.
import { MAX_TEXT_CHARS, SessionState } from "../protocol.js";
import { newClientId } from "../session.js";
import { h, show, setText } from "./dom.js";

const LEAVE_LABEL = "Leave message";

function dayStart(d) {
  return new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
}

// "at 9:00 AM", "tomorrow at 9:00 AM", "on Monday at 9:00 AM": in the customer's own time zone
export function opensText(ms, now = new Date()) {
  if (!Number.isFinite(ms)) return "";
  const at = new Date(ms);
  const time = at.toLocaleTimeString([], { hour: "numeric", minute: "2-digit" });
  const days = Math.round((dayStart(at) - dayStart(now)) / 86400000);
  if (days <= 0) return `at ${time}`;
  if (days === 1) return `tomorrow at ${time}`;
  if (days < 7) return `on ${at.toLocaleDateString([], { weekday: "long" })} at ${time}`;
  return `on ${at.toLocaleDateString()} at ${time}`;
}

export function waitText(seconds) {
  if (!Number.isFinite(seconds)) return "";
  if (seconds < 60) return "The wait is less than a minute.";
  const minutes = Math.round(seconds / 60);
  return `The wait is about ${minutes} minute${minutes === 1 ? "" : "s"}.`;
}

export function unavailable(s) {
  return !!s && s.state === SessionState.QUEUED && !!s.availability && s.availability.available === false;
}

function whyText(a) {
  if (a.reason === "closed") {
    const when = opensText(a.opens_at);
    return when ? `We're closed right now and open again ${when}` : "We're closed right now";
  }
  return "No one is available right now";
}

export function queueText(s) {
  const place = Number.isInteger(s.position) ? `you're number ${s.position} in the queue` : "you're in the queue";
  const left = !!s.left_message_at;
  if (unavailable(s)) {
    if (left) return `${whyText(s.availability)}. Your message is saved: we'll reply in this chat, so you can close it and come back later.`;
    return `${whyText(s.availability)}, but ${place}. Leave a message and we'll reply here.`;
  }
  const text = `${place[0].toUpperCase()}${place.slice(1)}.`;
  if (left) return `${text} We have your message.`;
  const wait = waitText(s.estimated_wait_s);
  return wait ? `${text} ${wait}` : text;
}

export function createWaiting({ chat, onLeft }) {
  const text = h("p", { part: "queue", class: "queue", role: "status" });
  const label = h("label", { for: "dcs-leave-input" }, "Your message");
  const input = h("textarea", {
    part: "leave-message-input",
    id: "dcs-leave-input",
    rows: "3",
    maxlength: String(MAX_TEXT_CHARS),
    autocomplete: "off",
  });
  const submit = h("button", { part: "leave-message-submit", class: "primary", type: "submit" }, LEAVE_LABEL);
  const form = h(
    "form",
    { part: "leave-message", class: "leave", "aria-label": "Leave a message", novalidate: true, hidden: true },
    label,
    input,
    submit,
  );
  const el = h("div", { class: "waiting", hidden: true }, text, form);
  let clientId = null; // kept until the message is stored: a retry is stored once
  let offering = false;

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    if (submit.disabled) return;
    if (!input.value.trim()) {
      input.focus();
      return;
    }
    clientId = clientId || newClientId();
    submit.disabled = true;
    setText(submit, "Sending…");
    chat.leaveMessage(input.value, clientId).then((ack) => {
      submit.disabled = false;
      setText(submit, LEAVE_LABEL);
      if (!ack || !ack.ok) return; // the notice says why; the text stays for another try
      input.value = "";
      clientId = null;
      if (onLeft) onLeft();
    });
  });

  return {
    el,
    // whether the leave-a-message form is shown (the composer steps aside meanwhile)
    get offering() {
      return offering;
    },
    render(s) {
      const queued = !!s && s.state === SessionState.QUEUED;
      show(el, queued);
      // shown while no one can serve the queue; kept while a started message is typed
      offering = queued && !s.left_message_at && (unavailable(s) || !!input.value.trim());
      show(form, offering);
      if (queued) setText(text, queueText(s));
    },
    focus() {
      input.focus();
    },
  };
}
