// The queue banner while the customer waits for an agent: their place, the wait only when
// the server could estimate one from measured waits, and, when no one can serve the queue
// (no agent available, or outside opening hours), a form to leave a message for follow-up
// in this same chat. The text is a live region (role=status); the form's input is labelled.
import { MAX_TEXT_CHARS, SessionState } from "../protocol.js";
import { newClientId } from "../session.js";
import { h, show, setText } from "./dom.js";

function dayStart(d) {
  return new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
}

// "at 9:00 AM", "tomorrow at 9:00 AM", "on Monday at 9:00 AM": in the customer's own time zone
export function opensText(t, ms, now = new Date()) {
  if (!Number.isFinite(ms)) return "";
  const at = new Date(ms);
  const lang = t.locale || [];
  const time = at.toLocaleTimeString(lang, { hour: "numeric", minute: "2-digit" });
  const days = Math.round((dayStart(at) - dayStart(now)) / 86400000);
  if (days <= 0) return t("opens_at", { time });
  if (days === 1) return t("opens_tomorrow", { time });
  if (days < 7) return t("opens_weekday", { day: at.toLocaleDateString(lang, { weekday: "long" }), time });
  return t("opens_date", { date: at.toLocaleDateString(lang), time });
}

export function waitText(t, seconds) {
  if (!Number.isFinite(seconds)) return "";
  if (seconds < 60) return t("wait_short");
  return t.plural("wait_minutes", Math.round(seconds / 60));
}

export function unavailable(s) {
  return !!s && s.state === SessionState.QUEUED && !!s.availability && s.availability.available === false;
}

export function whyText(t, a) {
  if (a.reason === "closed") {
    const when = opensText(t, a.opens_at);
    return when ? t("closed_until", { when }) : t("closed");
  }
  return t("nobody");
}

export function queueText(t, s) {
  const place = Number.isInteger(s.position) ? t("queue_place", { n: s.position }) : t("queue_in");
  const left = !!s.left_message_at;
  if (unavailable(s)) {
    if (left) return t("unavailable_left", { why: whyText(t, s.availability) });
    return t("unavailable_place", { why: whyText(t, s.availability), place });
  }
  const text = `${place[0].toUpperCase()}${place.slice(1)}.`;
  if (left) return `${text} ${t("queue_have_message")}`;
  const wait = waitText(t, s.estimated_wait_s);
  return wait ? `${text} ${wait}` : text;
}

export function createWaiting({ t, chat, onLeft }) {
  const text = h("p", { part: "queue", class: "queue", role: "status" });
  const label = h("label", { for: "dcs-leave-input" }, t("leave_label"));
  const input = h("textarea", {
    part: "leave-message-input",
    id: "dcs-leave-input",
    rows: "3",
    maxlength: String(MAX_TEXT_CHARS),
    autocomplete: "off",
  });
  const submit = h("button", { part: "leave-message-submit", class: "primary", type: "submit" }, t("leave_submit"));
  const form = h(
    "form",
    { part: "leave-message", class: "leave", "aria-label": t("leave_form"), novalidate: true, hidden: true },
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
    setText(submit, t("sending"));
    chat.leaveMessage(input.value, clientId).then((ack) => {
      submit.disabled = false;
      setText(submit, t("leave_submit"));
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
      if (queued) setText(text, queueText(t, s));
    },
    focus() {
      input.focus();
    },
  };
}
