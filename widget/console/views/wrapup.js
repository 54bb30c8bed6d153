// The wrap-up form, shown when a session is in wrap_up (the agent ended it, or the
// customer closed the chat): the disposition (one of the configured codes, required when
// any are configured), notes, then Submit, which closes the session for good. A missing
// disposition or a refusal from the server is said next to the form, and focus goes to
// what needs fixing.
import { h, nextId, setText } from "../dom.js";

const MAX_NOTES = 2000;

export function createWrapUp({ dispositions = [], onSubmit }) {
  const notesId = nextId("wrap-notes");
  const titleId = nextId("wrap-title");
  const codeId = nextId("wrap-code");
  const errorId = nextId("wrap-error");
  const required = dispositions.length > 0;
  const code = h(
    "select",
    { id: codeId, part: "wrap-up-disposition", class: "field", required, "aria-describedby": errorId },
    h("option", { value: "", text: "Choose an outcome…" }),
    dispositions.map((d) => h("option", { value: d.code, text: d.label })),
  );
  const notes = h("textarea", {
    id: notesId,
    part: "wrap-up-notes",
    class: "field",
    rows: "3",
    maxlength: String(MAX_NOTES),
    placeholder: "Outcome, follow-ups, anything the next agent should know",
  });
  const error = h("p", { id: errorId, part: "wrap-up-error", class: "wrapup__error", role: "alert", hidden: true });
  const submit = h("button", { type: "submit", part: "wrap-up-submit", class: "btn btn--primary" }, "Submit wrap-up");
  const intro = h("p", { class: "wrapup__intro" });
  const el = h(
    "form",
    { part: "wrap-up", class: "wrapup", "aria-labelledby": titleId, novalidate: true, hidden: true },
    h("h3", { id: titleId, class: "wrapup__title", text: "Wrap-up" }),
    intro,
    required ? h("label", { for: codeId, class: "label", text: "Disposition (required)" }) : null,
    required ? code : null,
    h("label", { for: notesId, class: "label", text: "Wrap-up notes" }),
    notes,
    error,
    h("div", { class: "wrapup__actions" }, submit),
  );
  const drafts = new Map(); // session id -> {notes, code} typed so far
  let sessionId = null;

  function say(text) {
    setText(error, text);
    error.hidden = !text;
    code.setAttribute("aria-invalid", text && required && !code.value ? "true" : "false");
  }

  el.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!sessionId || submit.getAttribute("aria-busy") === "true") return;
    if (required && !code.value) {
      say("Choose a disposition before closing the session.");
      code.focus();
      return;
    }
    say("");
    const id = sessionId;
    submit.setAttribute("aria-busy", "true");
    const ack = await onSubmit(id, notes.value.trim(), required ? code.value : "");
    submit.removeAttribute("aria-busy");
    if (ack && ack.ok) drafts.delete(id);
    else if (ack && ack.error && sessionId === id) say(ack.error.message || "The wrap-up was not saved.");
  });
  const keep = () => {
    if (sessionId) drafts.set(sessionId, { notes: notes.value, code: code.value });
  };
  notes.addEventListener("input", keep);
  code.addEventListener("change", () => {
    keep();
    if (code.value) say("");
  });

  return {
    el,
    // the first field to fill in
    get notes() {
      return required ? code : notes;
    },
    // show the form for session `id` (or hide it with null)
    showFor(id, introText) {
      if (sessionId === id && !el.hidden) return;
      sessionId = id;
      el.hidden = !id;
      if (id) {
        const draft = drafts.get(id) || { notes: "", code: "" };
        notes.value = draft.notes;
        code.value = draft.code;
        say("");
        setText(intro, introText || "The chat has ended. Choose the outcome, add notes, then submit to close the session.");
      }
    },
    forget(id) {
      drafts.delete(id);
    },
  };
}
