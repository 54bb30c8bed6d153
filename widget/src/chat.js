// The conversation with the server: session.start after every (re)connect, history,
// pending sends (same client_id on every retry), typing, escalation, close and rating.
import { Event, SessionState, MAX_TEXT_CHARS } from "./protocol.js";
import { Connection } from "./session.js";

const TRANSIENT = new Set(["offline", "timeout", "rate_limited", "internal", "bad_ack"]);
const CHATTING = new Set([SessionState.VIRTUAL, SessionState.QUEUED, SessionState.LIVE]);

export function currentPage() {
  return {
    url: String(location.href).slice(0, 2048),
    title: cleanTitle(document.title),
  };
}

// The server refuses control characters and lone surrogates in text (docs/protocol.md,
// "Text"), and a page's title is not the customer's to fix: drop them, and cut at 300
// characters (code points, so that no surrogate pair is cut in half).
export function cleanTitle(title) {
  const text = String(title || "")
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, "")
    .replace(/\p{Cs}/gu, "");
  return Array.from(text).slice(0, 300).join("");
}

// calls (optional): {push(name, data), resume(call)}, the first script's call hook (callhook.js);
// cobrowse (optional): the same for co-browse (cobrowsehook.js)
// onStarted(ack): told each session.start's ack once its messages are in (read receipts)
export function createChat({ transport, model, storage, onError, calls = null, cobrowse = null, say = (key) => key, onStarted = null }) {
  let generation = 0; // bumps on every connect and disconnect: stale answers are ignored
  let ready = false;
  let waiting = []; // actions to run once ready
  const inFlight = new Map(); // client_id -> generation of the attempt
  let retryTimer = 0;
  let historyTimer = 0;
  let typingSentAt = 0;
  let typingOn = false;
  let typingIdle = 0;
  let lastPageUrl = location.href;

  const persistPending = () => storage.setPending(model.unacked());
  model.on("pending-change", persistPending);

  const report = (error) => {
    if (error && onError) onError({ code: error.code, message: error.message });
  };

  transport.on("up", () => {
    generation += 1;
    start(generation);
  });
  transport.on("down", () => {
    generation += 1;
    ready = false;
    inFlight.clear();
    if (typingOn) typingOn = false;
    model.setConnection(Connection.DOWN);
  });
  transport.on("error", report);
  transport.on("push", onPush);

  function connect() {
    if (!transport.started) model.setConnection(Connection.CONNECTING);
    transport.connect();
  }

  async function start(gen) {
    const stored = storage.sessionId();
    const known = model.id;
    const payload = { page: currentPage(), after_seq: 0 };
    if (stored || known) payload.session_id = stored || known;
    if (payload.session_id && payload.session_id === known) payload.after_seq = model.highWater();
    const ack = await transport.request(Event.SESSION_START, payload);
    if (gen !== generation) return;
    if (!ack.ok || !ack.session) {
      const code = ack.error && ack.error.code;
      if (payload.session_id && (code === "forbidden" || code === "not_found")) {
        // not ours (any more): forget it and open a fresh one
        storage.setSessionId(null);
        if (known) model.reset();
        start(gen);
        return;
      }
      report(ack.error);
      clearTimeout(retryTimer);
      retryTimer = setTimeout(() => gen === generation && start(gen), 3000);
      return;
    }
    const session = ack.session;
    const replaced = !!known && session.session_id !== known; // the old one ended or was refused
    if (replaced) model.reset();
    storage.setSessionId(session.session_id);
    lastPageUrl = payload.page.url;
    model.setSession(session);
    if (calls) calls.resume(ack.call || null);
    if (cobrowse) cobrowse.resume(ack.cobrowse || null);
    for (const m of ack.messages || []) model.addMessage(m, false);
    if (onStarted) onStarted(ack);
    ready = true;
    model.setConnection(Connection.READY);
    // we asked for messages after our old high-water mark: the new session's start is missing;
    // or the ack held a full page (more): the rest comes page by page
    if ((replaced && payload.after_seq > 0) || ack.more) fetchHistory();
    flush();
  }

  function flush() {
    if (!ready) return;
    for (const entry of [...model.pending.values()]) if (!entry.acked) deliver(entry);
    const actions = waiting;
    waiting = [];
    for (const run of actions) run();
  }

  function deliver(entry) {
    if (!ready || inFlight.has(entry.client_id)) return;
    const gen = generation;
    inFlight.set(entry.client_id, gen);
    const payload = { session_id: model.id, client_id: entry.client_id, text: entry.text };
    transport.request(Event.CHAT_SEND, payload).then((ack) => {
      if (inFlight.get(entry.client_id) !== gen) return;
      inFlight.delete(entry.client_id);
      if (!model.pending.has(entry.client_id)) return;
      if (ack.ok) {
        // the sending socket gets its own message in the ack, not as a push
        if (ack.message) model.addMessage(ack.message, true);
        model.ackPending(entry.client_id, ack.seq);
        if (Number.isInteger(ack.seq) && !model.messages.has(ack.seq)) fetchHistorySoon();
        return;
      }
      const code = ack.error && ack.error.code;
      if (TRANSIENT.has(code)) {
        // kept pending; tried again shortly (or after the next reconnect)
        clearTimeout(retryTimer);
        retryTimer = setTimeout(flush, code === "rate_limited" ? 3000 : 1500);
        return;
      }
      model.dropPending(entry.client_id);
      model.notice(`Your message was not sent: ${(ack.error && ack.error.message) || "unknown error"}`);
      report(ack.error);
    });
  }

  // a message is missing (a gap, or our own message acked but not pushed): ask for it
  function fetchHistorySoon() {
    clearTimeout(historyTimer);
    historyTimer = setTimeout(fetchHistory, 1500);
  }

  async function fetchHistory() {
    if (!ready || !model.id) return;
    const gen = generation;
    const sessionId = model.id;
    for (;;) {
      const after = model.highWater();
      const ack = await transport.request(Event.HISTORY_FETCH, { session_id: sessionId, after_seq: after });
      if (gen !== generation || sessionId !== model.id || !ack.ok) return;
      const page = ack.messages || [];
      for (const m of page) model.addMessage(m, true);
      // a full page: ask for what follows it (while that moves us on)
      if (!ack.more || !page.length || model.highWater() <= after) return;
    }
  }

  function onPush(name, data) {
    if (!data || typeof data !== "object" || !model.id) {
      if (name === Event.ERROR && data) report(data.error || data);
      return;
    }
    if (name === Event.ERROR) {
      report(data.error || data);
      return;
    }
    if (data.session_id !== model.id) return; // an older session this socket still hears
    if (name === Event.SESSION_STATE) {
      model.setSession(data);
    } else if (name === Event.CHAT_MESSAGE) {
      const gap = data.seq > model.highWater() + 1;
      if (model.addMessage(data, true) && gap) fetchHistorySoon();
    } else if (name === Event.CALL_STATE || name === Event.RTC_SIGNAL) {
      if (calls) calls.push(name, data);
    } else if (name === Event.COBROWSE_STATE || name === Event.COBROWSE_SIGNAL || name === Event.COBROWSE_DATA) {
      if (cobrowse) cobrowse.push(name, data);
    } else if (name === Event.CHAT_TYPING) {
      const sender = data.sender || {};
      if (sender.role !== "customer") model.setTyping(sender, !!data.typing);
    }
  }

  // run `action` now if ready, else right after the next session.start
  function whenReady(action) {
    return new Promise((resolve) => {
      const run = () => action().then(resolve);
      if (ready) run();
      else {
        waiting.push(run);
        connect();
      }
    });
  }

  // an action on the current session; the ack's session (if any) updates the model
  function act(name, extra = {}) {
    return whenReady(() => {
      const sessionId = model.id;
      return transport.request(name, { session_id: sessionId, ...extra }).then((ack) => {
        if (ack.ok && ack.session && ack.session.session_id === model.id) model.setSession(ack.session);
        if (!ack.ok) {
          model.notice((ack.error && ack.error.message) || say("error_generic"));
          report(ack.error);
        }
        return ack;
      });
    });
  }

  function sendTyping(on) {
    typingOn = on;
    typingSentAt = on ? Date.now() : 0;
    if (ready && model.id) transport.request(Event.CHAT_TYPING, { session_id: model.id, typing: on });
  }

  return {
    connect,

    get ready() {
      return ready;
    },

    send(text) {
      const body = String(text == null ? "" : text).slice(0, MAX_TEXT_CHARS);
      if (!body.trim()) return false;
      if (model.state && !CHATTING.has(model.state)) {
        model.notice(say("conversation_over"));
        return false;
      }
      clearTimeout(typingIdle);
      if (typingOn) sendTyping(false);
      const entry = model.addPending(body);
      if (ready) deliver(entry);
      else connect();
      return true;
    },

    // the customer typed: "typing" at most every 2 s, "stopped" after 3 s idle
    typed() {
      if (!ready || !CHATTING.has(model.state)) return;
      if (!typingOn || Date.now() - typingSentAt >= 2000) sendTyping(true);
      clearTimeout(typingIdle);
      typingIdle = setTimeout(() => typingOn && sendTyping(false), 3000);
    },

    escalate() {
      return act(Event.SESSION_ESCALATE);
    },

    close() {
      return act(Event.SESSION_CLOSE);
    },

    // no one can serve the queue: leave `text` for follow-up in this session (the caller
    // keeps `clientId` until it is stored, so a retry is stored once)
    leaveMessage(text, clientId) {
      const body = String(text == null ? "" : text).slice(0, MAX_TEXT_CHARS);
      return act(Event.SESSION_LEAVE_MESSAGE, { client_id: clientId, text: body }).then((ack) => {
        if (ack.ok && ack.message) model.addMessage(ack.message, true);
        return ack;
      });
    },

    rate(score, comment) {
      const extra = { score };
      if (comment) extra.comment = String(comment).slice(0, 2000);
      return act(Event.CSAT_SUBMIT, extra);
    },

    pageView() {
      const page = currentPage();
      if (page.url === lastPageUrl || !ready || !model.id) return;
      lastPageUrl = page.url;
      transport.request(Event.PAGE_VIEW, { session_id: model.id, page });
    },

    // forget the ended session here (the server keeps it) and open a new one
    restart() {
      storage.setSessionId(null);
      model.reset();
      generation += 1;
      ready = false;
      inFlight.clear();
      if (transport.connected) start(generation);
      else connect();
    },

    // restore pending messages of this tab after a reload (same client_id when resent)
    restorePending() {
      for (const p of storage.pending()) model.addPending(p.text, p.client_id);
    },

    stop() {
      generation += 1;
      ready = false;
      waiting = [];
      clearTimeout(retryTimer);
      clearTimeout(historyTimer);
      clearTimeout(typingIdle);
      transport.disconnect();
    },
  };
}
