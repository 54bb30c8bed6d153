// The wrap-up form, shown when a session is in wrap_up (the agent ended it, or the
// customer closed the chat): notes, then Submit, which closes the session for good.
import { h, nextId, setText } from "../dom.js";

const MAX_NOTES = 2000;

export function createWrapUp({ onSubmit }) {
  const notesId = nextId("wrap-notes");
  const titleId = nextId("wrap-title");
  const notes = h("textarea", {
    id: notesId,
    part: "wrap-up-notes",
    class: "field",
    rows: "3",
    maxlength: String(MAX_NOTES),
    placeholder: "Outcome, follow-ups, anything the next agent should know",
  });
  const submit = h("button", { type: "submit", part: "wrap-up-submit", class: "btn btn--primary" }, "Submit wrap-up");
  const intro = h("p", { class: "wrapup__intro" });
  const el = h(
    "form",
    { part: "wrap-up", class: "wrapup", "aria-labelledby": titleId, novalidate: true, hidden: true },
    h("h3", { id: titleId, class: "wrapup__title", text: "Wrap-up" }),
    intro,
    h("label", { for: notesId, class: "label", text: "Wrap-up notes" }),
    notes,
    h("div", { class: "wrapup__actions" }, submit),
  );
  const drafts = new Map(); // session id -> notes typed so far
  let sessionId = null;

  el.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!sessionId || submit.getAttribute("aria-busy") === "true") return;
    const id = sessionId;
    submit.setAttribute("aria-busy", "true");
    const ack = await onSubmit(id, notes.value.trim());
    submit.removeAttribute("aria-busy");
    if (ack && ack.ok) drafts.delete(id);
  });
  notes.addEventListener("input", () => {
    if (sessionId) drafts.set(sessionId, notes.value);
  });

  return {
    el,
    notes,
    // show the form for session `id` (or hide it with null)
    showFor(id, introText) {
      if (sessionId === id && !el.hidden) return;
      sessionId = id;
      el.hidden = !id;
      if (id) {
        notes.value = drafts.get(id) || "";
        setText(intro, introText || "The chat has ended. Add notes, then submit to close the session.");
      }
    },
    forget(id) {
      drafts.delete(id);
    },
  };
}
