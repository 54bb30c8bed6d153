// Transfers and staff notes for the agent: warm transfers offered to us (with their note,
// reason and history), ours waiting for an answer, the consult lines of each, and the staff
// notes (a supervisor's whispers, transfer notes) of the sessions we hold. Emits "change".
import { Event } from "../src/protocol.js";
import { createEmitter } from "./emitter.js";
import { errorText } from "./actions.js";

function isObj(v) {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

export function createTransfers({ conn, notify }) {
  const events = createEmitter();
  const incoming = new Map(); // transfer_id -> Transfer (+ handoff)
  const outgoing = new Map(); // session_id -> Transfer
  const consult = new Map(); // transfer_id -> [StaffNote]
  const notes = new Map(); // session_id -> [StaffNote]

  function addNote(note) {
    if (!isObj(note) || typeof note.session_id !== "string") return;
    if (typeof note.transfer_id === "string") {
      const lines = consult.get(note.transfer_id) || [];
      if (!lines.some((n) => n.id === note.id)) lines.push(note);
      consult.set(note.transfer_id, lines);
    } else {
      const list = notes.get(note.session_id) || [];
      if (!list.some((n) => n.id === note.id)) list.push(note);
      notes.set(note.session_id, list);
    }
    events.emit("change");
  }

  function onTransferState(t) {
    if (!isObj(t) || typeof t.transfer_id !== "string") return;
    if (t.state === "offered") {
      if (isObj(t.handoff)) incoming.set(t.transfer_id, t);
      else outgoing.set(t.session_id, t);
    } else {
      const mine = outgoing.get(t.session_id);
      if (mine && mine.transfer_id === t.transfer_id) {
        outgoing.delete(t.session_id);
        if (t.state !== "accepted" && t.message) notify(`${t.message} The chat stays with you.`);
      }
      if (incoming.delete(t.transfer_id) && t.state !== "accepted" && t.message) notify(t.message);
      consult.delete(t.transfer_id);
    }
    events.emit("change");
  }

  return {
    on: events.on,
    incoming: () => [...incoming.values()],
    outgoingFor: (sessionId) => outgoing.get(sessionId) || null,
    consultOf: (transferId) => consult.get(transferId) || [],
    notesOf: (sessionId) => notes.get(sessionId) || [],

    onPush(name, data) {
      if (name === Event.TRANSFER_STATE) onTransferState(data);
      else if (name === Event.STAFF_NOTE) addNote(data);
      else if (name === Event.SESSION_HANDOFF && isObj(data) && Array.isArray(data.notes)) {
        for (const note of data.notes) addNote(note);
      }
    },

    async targets(sessionId) {
      const ack = await conn.request(Event.TRANSFER_TARGETS, { session_id: sessionId });
      return ack.ok ? { queues: ack.queues || [], agents: ack.agents || [] } : { queues: [], agents: [], error: errorText(ack.error) };
    },

    async transfer(sessionId, { queue, agentId, note }) {
      const payload = { session_id: sessionId, note: note || "", ...(agentId ? { agent_id: agentId } : { queue }) };
      const ack = await conn.request(Event.SESSION_TRANSFER, payload);
      if (ack.ok && ack.transfer) {
        outgoing.set(sessionId, ack.transfer);
        events.emit("change");
      }
      return ack;
    },

    async say(transferId, text) {
      const ack = await conn.request(Event.TRANSFER_CONSULT, { transfer_id: transferId, text });
      if (ack.ok) addNote(ack.note);
      else notify(errorText(ack.error, "Not sent."));
      return ack;
    },

    async answer(transferId, accept, message = "") {
      const ack = await conn.request(Event.TRANSFER_ANSWER, { transfer_id: transferId, accept, message });
      if (ack.ok || (ack.error && ack.error.code === "not_found")) {
        incoming.delete(transferId);
        events.emit("change");
      }
      if (!ack.ok) notify(errorText(ack.error, "Could not answer the transfer."));
      return ack;
    },

    async cancel(sessionId) {
      const t = outgoing.get(sessionId);
      if (!t) return null;
      const ack = await conn.request(Event.TRANSFER_CANCEL, { transfer_id: t.transfer_id });
      outgoing.delete(sessionId);
      events.emit("change");
      return ack;
    },

    destroy() {
      events.clear();
    },
  };
}
