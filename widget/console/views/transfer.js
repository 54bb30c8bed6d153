// Transfers in the agent's workspace: a Transfer button and dialog (to a queue or to a named
// agent who serves it and has room, with a private note); while a warm transfer waits, a
// consult chat with the receiving agent; offers made to us (note, reason, history, accept /
// decline); and the staff notes (a supervisor's whispers) of the selected session, shown
// apart from the customer's conversation.
import { h, nextId, setText, show } from "../dom.js";
import { errorText } from "../actions.js";

function consultBox(transfers, transferId, label) {
  const id = nextId("consult");
  // role=log on a wrapper (focusable: it scrolls): the <ol> keeps its list semantics for the <li>
  const lines = h("ol", { class: "consult__lines" });
  const log = h("div", { class: "consult__log", role: "log", "aria-live": "polite", "aria-label": label, tabindex: "0", "data-part": "consult-log" }, lines);
  // appends only the new lines: the input keeps its focus and text, the log announces once
  function refresh() {
    const all = transfers.consultOf(transferId);
    for (const n of all.slice(lines.children.length)) lines.append(h("li", {}, h("strong", { text: `${n.author?.name || ""}: ` }), String(n.text || "")));
  }
  refresh();
  const input = h("input", { id, type: "text", class: "field", maxlength: "4000", "data-part": "consult-input", autocomplete: "off" });
  const form = h("form", { class: "consult__form", novalidate: true }, h("label", { for: id, class: "label", text: "Consult (agents only; the customer never sees it)" }), input, h("button", { type: "submit", class: "btn" }, "Send"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    const ack = await transfers.say(transferId, text);
    if (ack.ok) input.value = "";
  });
  return { el: h("div", { class: "consult" }, log, form), input, refresh };
}

export function createTransferView({ store, transfers, notify }) {
  const dialogTitle = nextId("transfer-title");
  const targetId = nextId("transfer-target");
  const noteId = nextId("transfer-note");
  const target = h("select", { id: targetId, class: "field", "data-part": "transfer-target" });
  const note = h("textarea", { id: noteId, class: "field", rows: "3", maxlength: "300", "data-part": "transfer-note" });
  const dialogError = h("p", { class: "signin__error", role: "alert" });
  const submit = h("button", { type: "submit", class: "btn btn--primary", "data-part": "transfer-submit" }, "Transfer");
  const form = h(
    "form",
    { method: "dialog", class: "transfer__form", novalidate: true },
    h("h2", { id: dialogTitle, text: "Transfer this chat" }),
    h("label", { for: targetId, class: "label", text: "To" }),
    target,
    h("label", { for: noteId, class: "label", text: "Note for the next agent (private)" }),
    note,
    dialogError,
    h("div", { class: "transfer__buttons" }, h("button", { type: "button", class: "btn btn--quiet", onclick: () => dialog.close() }, "Cancel"), submit),
  );
  const dialog = h("dialog", { class: "transfer__dialog", "aria-labelledby": dialogTitle, "data-part": "transfer-dialog" }, form);
  let dialogSession = null;

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const [kind, value] = target.value.split(":");
    if (!dialogSession || !value) return;
    submit.disabled = true;
    const ack = await transfers.transfer(dialogSession, kind === "a" ? { agentId: value, note: note.value.trim() } : { queue: value, note: note.value.trim() });
    submit.disabled = false;
    if (!ack.ok) {
      setText(dialogError, errorText(ack.error, "Could not transfer."));
      return;
    }
    dialog.close();
    notify(kind === "a" ? "Transfer offered; you keep the chat until they accept." : `Transferred to the ${value} queue.`);
  });

  async function openDialog() {
    const entry = store.selected;
    if (!entry || entry.session.state !== "live") return;
    dialogSession = entry.id;
    note.value = "";
    setText(dialogError, "");
    const { queues, agents, error } = await transfers.targets(entry.id);
    target.replaceChildren(
      h("optgroup", { label: "Agents (warm transfer)" }, ...agents.map((a) => h("option", { value: `a:${a.id}`, text: `${a.name} (${a.free} free)` }))),
      h("optgroup", { label: "Queues" }, ...queues.map((q) => h("option", { value: `q:${q}`, text: `the ${q} queue` }))),
    );
    if (error) setText(dialogError, error);
    dialog.showModal();
    target.focus();
  }

  const transferButton = h("button", { type: "button", class: "btn", "data-part": "transfer-open", onclick: openDialog }, "Transfer…");
  const outgoing = h("div", { class: "transfer__outgoing", "data-part": "transfer-outgoing" });
  const offers = h("div", { class: "transfer__offers", "aria-label": "Transfers offered to you", role: "region", "data-part": "transfer-offers" });
  // the notes' log is a wrapper, so the <ul> keeps its list semantics for the <li>
  const notesList = h("ul", { class: "staffnotes__list" });
  const notesLog = h("div", { class: "staffnotes", role: "log", "aria-live": "polite", "aria-label": "Notes from staff (the customer does not see them)", "data-part": "staff-notes" }, notesList);

  const offerEls = new Map(); // transfer_id -> {el, consult}
  const pendingEls = new Map(); // transfer_id -> {el, consult}

  function renderOffers() {
    const list = transfers.incoming();
    for (const id of [...offerEls.keys()]) if (!list.some((t) => t.transfer_id === id)) offerEls.delete(id);
    offers.replaceChildren(
      ...list.map((t) => {
        const known = offerEls.get(t.transfer_id);
        if (known) {
          known.consult.refresh();
          return known.el;
        }
        const handoff = t.handoff || {};
        const customer = handoff.customer || {};
        const history = (handoff.transcript || []).slice(-12).map((m) => h("li", {}, h("strong", { text: `${m.sender?.name || m.sender?.role || ""}: ` }), String(m.text || "")));
        const consult = consultBox(transfers, t.transfer_id, `Consult with ${t.from?.name || ""}`);
        const article = h(
          "article",
          { class: "transfer__offer", "data-part": "transfer-offer", "aria-label": `Transfer from ${t.from?.name || ""}` },
          h("h3", { text: `${t.from?.name || "An agent"} wants to pass you ${customer.name || customer.id || "a customer"}` }),
          t.note ? h("p", {}, h("strong", { text: "Note: " }), String(t.note)) : null,
          h("p", {}, h("strong", { text: "Why: " }), String(t.reason || "")),
          handoff.reason ? h("p", {}, h("strong", { text: "First came to us: " }), String(handoff.reason)) : null,
          h("details", { open: true }, h("summary", { text: "The conversation so far" }), h("ol", { class: "transfer__history", tabindex: "0", "aria-label": "The conversation so far", "data-part": "transfer-history" }, history)),
          consult.el,
          h(
            "div",
            { class: "transfer__buttons" },
            h("button", { type: "button", class: "btn btn--primary", "data-part": "transfer-accept", onclick: async () => {
              const ack = await transfers.answer(t.transfer_id, true);
              if (ack.ok) {
                const entry = store.upsertHandoff(ack.handoff);
                if (entry) store.select(entry.id);
              }
            } }, "Accept"),
            h("button", { type: "button", class: "btn", "data-part": "transfer-decline", onclick: () => transfers.answer(t.transfer_id, false, "I can't take it just now") }, "Decline"),
          ),
        );
        offerEls.set(t.transfer_id, { el: article, consult });
        return article;
      }),
    );
    show(offers, list.length > 0);
  }

  function renderSelected() {
    const entry = store.selected;
    const live = Boolean(entry && entry.session.state === "live");
    const pending = entry ? transfers.outgoingFor(entry.id) : null;
    show(transferButton, live && !pending);
    if (pending) {
      let box = pendingEls.get(pending.transfer_id);
      if (!box) {
        const consult = consultBox(transfers, pending.transfer_id, `Consult with ${pending.to?.name || ""}`);
        const el = h(
          "div",
          {},
          h("p", { role: "status" }, `Waiting for ${pending.to?.name || "the other agent"} to accept. The chat stays with you meanwhile.`),
          consult.el,
          h("button", { type: "button", class: "btn btn--quiet", "data-part": "transfer-cancel", onclick: () => transfers.cancel(entry.id) }, "Take the transfer back"),
        );
        box = { el, consult };
        pendingEls.clear();
        pendingEls.set(pending.transfer_id, box);
      }
      box.consult.refresh();
      if (outgoing.firstChild !== box.el) outgoing.replaceChildren(box.el);
    } else {
      pendingEls.clear();
      outgoing.replaceChildren();
    }
    show(outgoing, Boolean(pending));
    const notes = entry ? transfers.notesOf(entry.id) : [];
    notesList.replaceChildren(
      ...notes.map((n) =>
        h("li", { class: `staffnote staffnote--${n.kind}`, "data-part": `staff-note-${n.kind}` }, h("strong", { text: `${n.kind === "whisper" ? "Whisper" : "Note"} from ${n.author?.name || ""} (${n.author?.role || ""}): ` }), String(n.text || "")),
      ),
    );
    show(notesLog, notes.length > 0);
  }

  function render() {
    renderOffers();
    renderSelected();
  }
  const offs = [transfers.on("change", render), store.on("selected", renderSelected), store.on("session", renderSelected), store.on("sessions", renderSelected)];
  render();

  return {
    el: h("div", { class: "transfer" }, offers, h("div", { class: "transfer__bar" }, transferButton), outgoing, notesLog, dialog),
    destroy() {
      for (const off of offs) off();
    },
  };
}
