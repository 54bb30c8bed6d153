// Step in to one session: observe it (its transcript, then live messages), whisper to its
// agent, join the chat (barge) and leave again; move a waiting session to another queue or
// to the front; reassign a live one to another agent or queue, with a note.
import { Event, MAX_TEXT_CHARS } from "../../src/protocol.js";
import { h, nextId, setText, show } from "../dom.js";
import { errorText } from "../actions.js";
import { cleanMessage } from "../store.js";
import { newClientId } from "../ids.js";

const ROLE_TEXT = { customer: "Customer", agent: "Agent", supervisor: "Supervisor", assistant: "Assistant", system: "" };

export function createStepIn({ conn, model, notify, onLeft = () => {} }) {
  let sessionId = null;
  let barged = false;
  const messages = new Map(); // seq -> Message
  const notes = [];

  const title = h("h2", { class: "stepin__title", id: nextId("stepin-title"), tabindex: "-1" });
  const status = h("p", { class: "stepin__status" });
  // role=log on a wrapper (focusable: it scrolls): the <ol> keeps its list semantics for the <li>
  const log = h("ol", { class: "stepin__lines" });
  const logBox = h("div", { class: "stepin__log", role: "log", "aria-live": "polite", "aria-label": "Conversation (observed)", tabindex: "0", "data-part": "observe-log" }, log);
  const noteList = h("ul", { class: "stepin__notes", "aria-label": "Staff notes", "data-part": "observe-notes" });

  function field(label, control) {
    const id = nextId("stepin");
    control.id = id;
    return h("div", { class: "stepin__field" }, h("label", { for: id, class: "label", text: label }), control);
  }
  function form(part, submitText, controls, onsubmit) {
    const button = h("button", { type: "submit", class: "btn" }, submitText);
    const f = h("form", { class: "stepin__form", "data-part": part, novalidate: true }, ...controls, button);
    f.addEventListener("submit", (event) => {
      event.preventDefault();
      onsubmit();
    });
    return f;
  }

  const whisperText = h("textarea", { class: "field", rows: "2", maxlength: String(MAX_TEXT_CHARS), "data-part": "whisper-input" });
  const whisper = form("whisper", "Whisper to the agent", [field("Whisper (only the agent sees it)", whisperText)], async () => {
    const text = whisperText.value.trim();
    if (!text) return;
    const ack = await conn.request(Event.SUPERVISOR_WHISPER, { session_id: sessionId, text });
    if (ack.ok) {
      whisperText.value = "";
      addNote(ack.note);
      notify("Whisper sent to the agent.");
    } else notify(errorText(ack.error, "Could not whisper."));
  });

  const bargeButton = h("button", { type: "button", class: "btn", "data-part": "barge", onclick: () => toggleBarge() }, "Join the chat");
  const sayText = h("textarea", { class: "field", rows: "2", maxlength: String(MAX_TEXT_CHARS), "data-part": "say-input" });
  const say = form("say", "Send to the chat", [field("Message to the customer and agent", sayText)], async () => {
    const text = sayText.value.trim();
    if (!text) return;
    const ack = await conn.request(Event.CHAT_SEND, { session_id: sessionId, client_id: newClientId(), text });
    if (ack.ok) {
      sayText.value = "";
      addMessages([ack.message]);
    } else notify(errorText(ack.error, "Not sent."));
  });

  const moveQueue = h("select", { class: "field", "data-part": "move-queue" });
  const move = form("move", "Move to this queue", [field("Move to queue", moveQueue)], () => doMove({ queue: moveQueue.value }));
  const frontButton = h("button", { type: "button", class: "btn", "data-part": "move-front", onclick: () => doMove({ front: true }) }, "Move to the front");

  const reassignAgent = h("select", { class: "field", "data-part": "reassign-agent" });
  const reassignNote = h("input", { class: "field", type: "text", maxlength: "300", "data-part": "reassign-note" });
  const reassign = form("reassign", "Reassign", [field("Reassign to", reassignAgent), field("Note for the next agent", reassignNote)], async () => {
    const [kind, target] = reassignAgent.value.split(":");
    if (!target) return;
    const payload = { session_id: sessionId, note: reassignNote.value.trim(), [kind === "q" ? "queue" : "agent_id"]: target };
    const ack = await conn.request(Event.SUPERVISOR_REASSIGN, payload);
    if (ack.ok) {
      reassignNote.value = "";
      notify("Reassigned.");
    } else notify(errorText(ack.error, "Could not reassign."));
  });

  const close = h("button", { type: "button", class: "btn btn--quiet", "data-part": "stepin-close", onclick: () => leave() }, "Stop observing");

  const body = h("div", { class: "stepin__body" }, status, h("div", { class: "stepin__row" }, bargeButton, close), logBox, noteList, whisper, say, h("div", { class: "stepin__row" }, move, frontButton), reassign);
  const el = h("section", { class: "stepin", "aria-labelledby": title.id, "data-part": "stepin", hidden: true }, title, body);

  async function doMove(payload) {
    const ack = await conn.request(Event.SUPERVISOR_MOVE, { session_id: sessionId, ...payload });
    notify(ack.ok ? (payload.front ? "Moved to the front of its queue." : `Moved to ${payload.queue}.`) : errorText(ack.error, "Could not move."));
  }

  async function toggleBarge() {
    if (!sessionId) return;
    const ack = await conn.request(barged ? Event.SUPERVISOR_LEAVE : Event.SUPERVISOR_BARGE, { session_id: sessionId });
    if (!ack.ok) return notify(errorText(ack.error, "Could not do that."));
    barged = !barged;
    if (!barged) await conn.request(Event.SUPERVISOR_OBSERVE, { session_id: sessionId }); // still watching
    render();
  }

  function addMessages(list) {
    for (const raw of list || []) {
      const m = cleanMessage(raw);
      if (!m || m.session_id !== sessionId || messages.has(m.seq)) continue;
      messages.set(m.seq, m);
      const who = m.sender.role === "system" ? "" : `${m.sender.name || ROLE_TEXT[m.sender.role] || m.sender.role}: `;
      const item = h("li", { class: `stepin__msg stepin__msg--${m.sender.role}`, "data-seq": String(m.seq) }, h("span", { class: "stepin__who", text: who }), h("span", { text: m.text }));
      const after = [...log.children].find((li) => Number(li.dataset.seq) > m.seq);
      log.insertBefore(item, after || null);
    }
  }

  function addNote(raw) {
    if (!raw || raw.session_id !== sessionId || notes.some((n) => n.id === raw.id)) return;
    notes.push(raw);
    const kind = raw.kind === "whisper" ? "Whisper" : raw.kind === "consult" ? "Consult" : "Note";
    noteList.append(h("li", { class: `stepin__note stepin__note--${raw.kind}` }, `${kind} from ${raw.author?.name || ""}: `, String(raw.text || "")));
  }

  function render() {
    const row = sessionId ? model.get(`s:${sessionId}`) : null;
    show(el, Boolean(sessionId));
    if (!sessionId) return;
    const state = row ? row.state : "";
    setText(title, row ? `${row.customer} · ${row.queue}` : "Session");
    setText(status, !row ? "This session is no longer on the wall." : state === "queued" ? "Waiting in the queue." : `${state === "live" ? "Live" : "Wrap-up"} with ${row.agent ? row.agent.name : "an agent"}${barged ? " · you are in the chat" : " · observing (the customer is not told)"}`);
    setText(bargeButton, barged ? "Leave the chat" : "Join the chat");
    show(bargeButton, state === "live");
    show(whisper, state === "live");
    show(say, barged && state === "live");
    show(move, state === "queued");
    show(frontButton, state === "queued");
    show(reassign, state === "live");
    const queues = model.of("queue").map((q) => q.id).sort();
    const current = row ? row.queue : "";
    const options = queues.filter((q) => q !== current);
    if ([...moveQueue.options].map((o) => o.value).join() !== options.join()) moveQueue.replaceChildren(...options.map((q) => h("option", { value: q, text: q })));
    const agentsFor = model.of("agent").filter((a) => a.presence !== "offline" && a.held < a.capacity && (!row || !row.agent || a.id !== row.agent.id) && (a.skills.includes("*") || a.skills.includes(current)));
    const wanted = [...agentsFor.map((a) => [`a:${a.id}`, `${a.name} (${a.held}/${a.capacity})`]), ...queues.map((q) => [`q:${q}`, `the ${q} queue`])];
    if ([...reassignAgent.options].map((o) => o.value).join() !== wanted.map((w) => w[0]).join()) {
      const chosen = reassignAgent.value;
      reassignAgent.replaceChildren(...wanted.map(([value, text]) => h("option", { value, text })));
      if (wanted.some((w) => w[0] === chosen)) reassignAgent.value = chosen;
    }
  }

  async function open(id) {
    if (sessionId && sessionId !== id) await leave({ quiet: true });
    sessionId = id;
    barged = false;
    messages.clear();
    notes.length = 0;
    log.replaceChildren();
    noteList.replaceChildren();
    render();
    title.focus();
    const ack = await conn.request(Event.SUPERVISOR_OBSERVE, { session_id: id });
    if (!ack.ok) {
      notify(errorText(ack.error, "Could not open this session."));
      return;
    }
    addMessages(ack.handoff && ack.handoff.transcript);
    for (const note of (ack.handoff && ack.handoff.notes) || []) addNote(note);
  }

  async function leave({ quiet = false } = {}) {
    const id = sessionId;
    if (!id) return;
    // focus was in the panel (on Stop observing): it goes back to the session's row, not <body>
    const hadFocus = el.contains(document.activeElement);
    sessionId = null;
    barged = false;
    render();
    if (hadFocus) onLeft(id);
    await conn.request(Event.SUPERVISOR_LEAVE, { session_id: id });
    if (!quiet) notify("Stopped observing.");
  }

  const offRows = model.on("rows", () => render());

  return {
    el,
    open,
    onPush(name, data) {
      if (!sessionId || !data || data.session_id !== sessionId) return;
      if (name === Event.CHAT_MESSAGE) addMessages([data]);
      else if (name === Event.STAFF_NOTE) addNote(data);
      else if (name === Event.SESSION_STATE) render();
    },
    reobserve() {
      if (!sessionId) return;
      conn.request(barged ? Event.SUPERVISOR_BARGE : Event.SUPERVISOR_OBSERVE, { session_id: sessionId }).then((ack) => ack.ok && addMessages(ack.handoff && ack.handoff.transcript));
    },
    destroy() {
      offRows();
      el.remove();
    },
  };
}
