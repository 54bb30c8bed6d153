// What the agent does: presence, accept, send, typing, end, wrap up. Each one is a request
// with an ack; the outcome goes into the store and, when it needs saying, a notice.
import { Event, MAX_TEXT_CHARS } from "../src/protocol.js";
import { newClientId } from "./ids.js";
import { customerLabel } from "./format.js";

const PRESENCE_KEY = "dcs.console.presence";

export function errorText(error, fallback = "Something went wrong; please try again.") {
  const code = error && error.code;
  if (code === "already_taken") return "Another agent already took this session.";
  if (code === "offline") return "Not connected to the server; try again once the console is back online.";
  if (code === "timeout") return "The server did not answer in time; please try again.";
  const message = error && typeof error.message === "string" ? error.message : "";
  return message || fallback;
}

function loadPresence() {
  try {
    return sessionStorage.getItem(PRESENCE_KEY) === "away" ? "away" : "available";
  } catch {
    return "available";
  }
}

function savePresence(status) {
  try {
    sessionStorage.setItem(PRESENCE_KEY, status);
  } catch {
    // not remembered across reloads then
  }
}

export function forgetPresence() {
  try {
    sessionStorage.removeItem(PRESENCE_KEY);
  } catch {
    // nothing stored
  }
}

export function createActions({ conn, store, notify }) {
  let wantedPresence = loadPresence();
  const busy = new Set(); // "accept:<id>", "end:<id>", "wrap:<id>" in flight

  async function once(key, run) {
    if (busy.has(key)) return null;
    busy.add(key);
    try {
      return await run();
    } finally {
      busy.delete(key);
    }
  }

  async function setPresence(status, { quiet = false } = {}) {
    wantedPresence = status;
    savePresence(status);
    const ack = await conn.request(Event.AGENT_PRESENCE, { status });
    if (ack.ok) {
      store.setAgent(ack.agent);
      if (!quiet) notify(status === "away" ? "You are away: no new sessions are offered to you." : "You are available.");
    } else if (!quiet) {
      notify(errorText(ack.error, "Could not change your status."));
    }
    return ack;
  }

  function accept(sessionId) {
    return once(`accept:${sessionId}`, async () => {
      const ack = await conn.request(Event.SESSION_ACCEPT, { session_id: sessionId });
      if (ack.ok) {
        const entry = store.upsertHandoff(ack.handoff);
        store.dropQueueItem(sessionId);
        if (entry) store.select(entry.id);
        return ack;
      }
      const code = ack.error && ack.error.code;
      if (code === "already_taken") {
        store.dropQueueItem(sessionId);
        notify("Another agent already took this session.");
      } else if (code === "at_capacity") {
        const agent = store.agent;
        const cap = agent && agent.capacity ? ` (${agent.capacity} sessions)` : "";
        notify(`You are at capacity${cap}: end or wrap up a session before accepting another.`);
      } else {
        if (code === "wrong_state" || code === "not_found") store.dropQueueItem(sessionId);
        notify(errorText(ack.error, "Could not accept this session."));
      }
      return ack;
    });
  }

  async function deliver(sessionId, clientId, text) {
    const ack = await conn.request(Event.CHAT_SEND, { session_id: sessionId, client_id: clientId, text });
    if (ack.ok && ack.message) {
      store.addMessages(sessionId, [ack.message]);
      store.discardPending(sessionId, clientId); // in case the echo had no client_id
    } else if (ack.ok) {
      store.discardPending(sessionId, clientId);
      refill(sessionId);
    } else if (ack.error && ack.error.code === "offline") {
      store.updatePending(sessionId, clientId, { status: "sending", error: "Waiting for the connection…" });
    } else {
      store.updatePending(sessionId, clientId, { status: "failed", error: errorText(ack.error, "Not sent.") });
    }
    return ack;
  }

  function send(sessionId, rawText) {
    const text = String(rawText || "").trim();
    if (!text || !store.holds(sessionId)) return false;
    if (text.length > MAX_TEXT_CHARS) {
      notify(`A message can have at most ${MAX_TEXT_CHARS} characters.`);
      return false;
    }
    const clientId = newClientId();
    store.addPending(sessionId, { client_id: clientId, text, ts: Date.now() });
    deliver(sessionId, clientId, text);
    return true;
  }

  function retry(sessionId, clientId) {
    const pending = store.get(sessionId)?.pending.get(clientId);
    if (!pending) return;
    store.updatePending(sessionId, clientId, { status: "sending", error: "" });
    deliver(sessionId, clientId, pending.text);
  }

  function sendTyping(sessionId, typing) {
    const entry = store.get(sessionId);
    if (!entry || entry.session.state !== "live") return;
    conn.request(Event.CHAT_TYPING, { session_id: sessionId, typing });
  }

  function end(sessionId) {
    return once(`end:${sessionId}`, async () => {
      const ack = await conn.request(Event.SESSION_END, { session_id: sessionId });
      if (ack.ok) store.setSession(ack.session);
      else notify(errorText(ack.error, "Could not end this session."));
      return ack;
    });
  }

  function wrapUp(sessionId, notes, disposition = "") {
    return once(`wrap:${sessionId}`, async () => {
      const entry = store.get(sessionId);
      const name = entry ? customerLabel(entry.customer) : "the customer";
      const payload = { session_id: sessionId, notes: String(notes || "") };
      if (disposition) payload.disposition = disposition; // a configured code (workspace.py)
      const ack = await conn.request(Event.SESSION_WRAP_UP, payload);
      if (ack.ok) {
        store.removeSession(sessionId);
        notify(`Session with ${name} closed.`);
      } else {
        notify(errorText(ack.error, "Could not save the wrap-up."));
      }
      return ack;
    });
  }

  // messages after the highest seq we have (after a reconnect, or a gap in live pushes)
  async function refill(sessionId) {
    for (;;) {
      const entry = store.get(sessionId);
      if (!entry) return;
      const ack = await conn.request(Event.HISTORY_FETCH, { session_id: sessionId, after_seq: entry.lastSeq });
      if (!ack.ok || !Array.isArray(ack.messages)) return;
      store.addMessages(sessionId, ack.messages);
      if (!ack.more || !ack.messages.length) return; // a full page: ask for what follows it
    }
  }

  // after every (re)connect: fill gaps, resend unacknowledged messages, restore "away"
  function resume() {
    for (const entry of store.list()) {
      refill(entry.id);
      for (const pending of [...entry.pending.values()]) {
        if (pending.status === "sending") deliver(entry.id, pending.client_id, pending.text);
      }
    }
    if (wantedPresence === "away") setPresence("away", { quiet: true });
  }

  return {
    setPresence,
    accept,
    send,
    retry,
    discard: (sessionId, clientId) => store.discardPending(sessionId, clientId),
    sendTyping,
    end,
    wrapUp,
    refill,
    resume,
    isBusy: (key) => busy.has(key),
    get wantedPresence() {
      return wantedPresence;
    },
  };
}
