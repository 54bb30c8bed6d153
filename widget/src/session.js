// The session model: the protocol Session, the messages keyed by seq (each kept once),
// the customer's pending outgoing messages, who is typing, and the connection status.
// It only holds state and announces changes; chat.js talks to the server, ui/ renders.
import { createEmitter } from "./emitter.js";

export const Connection = Object.freeze({
  IDLE: "idle", // not connected yet (the panel was never opened)
  CONNECTING: "connecting", // first attempt under way
  DOWN: "down", // lost or refused: socket.io (or we) retry
  READY: "ready", // connected and session.start answered
});

export function newClientId() {
  const uuid =
    window.crypto && typeof crypto.randomUUID === "function"
      ? crypto.randomUUID()
      : `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}-${Math.random().toString(36).slice(2)}`;
  return `c_${uuid}`;
}

function isMessage(m) {
  return m && typeof m === "object" && Number.isInteger(m.seq) && m.seq > 0 && typeof m.text === "string";
}

export function createSessionModel() {
  const events = createEmitter();
  let session = null;
  let sessionJson = "";
  let connection = Connection.IDLE;
  const messages = new Map(); // seq -> Message
  const pending = new Map(); // client_id -> {client_id, text, acked?: seq}
  const typing = new Map(); // sender key -> {sender, until}

  const model = {
    on: events.on,

    get session() {
      return session;
    },
    get id() {
      return session ? session.session_id : null;
    },
    get state() {
      return session ? session.state : null;
    },
    get connection() {
      return connection;
    },
    get messages() {
      return messages;
    },
    get pending() {
      return pending;
    },

    setConnection(value) {
      if (value === connection) return;
      connection = value;
      events.emit("connection", value);
    },

    setSession(next) {
      if (!next || typeof next !== "object") return;
      const json = JSON.stringify(next);
      if (json === sessionJson) return;
      session = next;
      sessionJson = json;
      events.emit("state", session);
    },

    // forget the conversation shown (another session, or "start a new conversation")
    reset() {
      session = null;
      sessionJson = "";
      messages.clear();
      typing.clear();
      events.emit("reset");
    },

    // true when the message is new; `live` is false for history
    addMessage(m, live = false) {
      if (!isMessage(m) || messages.has(m.seq)) return false;
      if (session && m.session_id && m.session_id !== session.session_id) return false;
      messages.set(m.seq, m);
      if (m.client_id && pending.has(m.client_id)) {
        pending.delete(m.client_id);
        events.emit("settle", m.client_id);
        events.emit("pending-change");
      }
      // whoever sent it has stopped typing (match by role: ids differ across tabs/sockets)
      const role = (m.sender || {}).role;
      let stopped = false;
      for (const [key, t] of typing) if (t.sender.role === role) stopped = typing.delete(key);
      if (stopped) events.emit("typing");
      events.emit("message", m, live);
      return true;
    },

    lastSeq() {
      let last = 0;
      for (const seq of messages.keys()) if (seq > last) last = seq;
      return last;
    },

    // the highest seq up to which nothing is missing: what to ask for after a reconnect
    highWater() {
      let seq = 0;
      while (messages.has(seq + 1)) seq += 1;
      return seq;
    },

    latest() {
      return messages.get(model.lastSeq()) || null;
    },

    addPending(text, clientId = newClientId()) {
      if (pending.has(clientId)) return pending.get(clientId);
      const entry = { client_id: clientId, text };
      pending.set(clientId, entry);
      events.emit("pending", entry);
      events.emit("pending-change");
      return entry;
    },

    // the server stored it as `seq`; keep the bubble until that message is here
    ackPending(clientId, seq) {
      const entry = pending.get(clientId);
      if (!entry) return;
      if (messages.has(seq) && messages.get(seq).client_id === clientId) {
        pending.delete(clientId);
        events.emit("settle", clientId);
      } else {
        entry.acked = seq;
      }
      events.emit("pending-change");
    },

    dropPending(clientId) {
      if (!pending.delete(clientId)) return;
      events.emit("settle", clientId);
      events.emit("pending-change");
    },

    // what still has to reach the server (persisted in sessionStorage)
    unacked() {
      return [...pending.values()].filter((p) => !p.acked).map((p) => ({ client_id: p.client_id, text: p.text }));
    },

    setTyping(sender, on) {
      if (!sender) return;
      const key = `${sender.role}:${sender.id}`;
      const had = typing.has(key);
      if (on) typing.set(key, { sender, until: Date.now() + 8000 });
      else typing.delete(key);
      if (on || had) events.emit("typing");
    },

    // the senders still typing (an indicator expires if its "stopped" never came)
    typers() {
      const now = Date.now();
      for (const [key, t] of typing) if (t.until < now) typing.delete(key);
      return [...typing.values()].map((t) => t.sender);
    },

    notice(text) {
      events.emit("notice", text);
    },
  };
  return model;
}
