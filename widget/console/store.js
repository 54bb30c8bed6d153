// The console's state: the agent, the waiting queue, and the sessions the agent holds
// (their handoff context, messages keyed by seq, pending sends keyed by client_id, unread
// counts, typing). Views subscribe to change events:
//   "agent", "queue", "connection", "selected", "sessions" (the held list),
//   "session" (id: handoff/state), "messages" (id), "typing" (id).
// Everything from the network is validated for shape here; views render it as text.
import { createEmitter } from "./emitter.js";

const ORPHAN_LIMIT = 200;

function isObj(v) {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function text(v) {
  return typeof v === "string" ? v : "";
}

function num(v) {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

export function cleanMessage(m) {
  if (!isObj(m) || typeof m.session_id !== "string") return null;
  if (!Number.isInteger(m.seq) || m.seq < 1) return null;
  const sender = isObj(m.sender) ? m.sender : {};
  return {
    session_id: m.session_id,
    seq: m.seq,
    client_id: text(m.client_id),
    sender: { role: text(sender.role) || "system", id: text(sender.id), name: text(sender.name) },
    text: text(m.text),
    ts: num(m.ts),
    suggestions: Array.isArray(m.suggestions) ? m.suggestions.filter((s) => typeof s === "string") : [],
    attachment: cleanAttachment(m.attachment), // a file the message carries (files.js), or null
  };
}

function cleanAttachment(a) {
  if (!isObj(a) || typeof a.id !== "string") return null;
  return { id: a.id, name: text(a.name) || "file", content_type: text(a.content_type), size: num(a.size) || 0 };
}

function cleanSession(s) {
  if (!isObj(s) || typeof s.session_id !== "string") return null;
  return {
    session_id: s.session_id,
    state: text(s.state),
    queue: text(s.queue),
    agent: isObj(s.agent) ? { id: text(s.agent.id), name: text(s.agent.name) } : null,
    csat: isObj(s.csat) ? { score: num(s.csat.score), comment: text(s.csat.comment) } : null,
  };
}

function cleanPage(p) {
  return isObj(p) ? { url: text(p.url), title: text(p.title), ts: num(p.ts) } : { url: "", title: "", ts: null };
}

function cleanQueueItem(item) {
  if (!isObj(item) || typeof item.session_id !== "string") return null;
  const customer = isObj(item.customer) ? item.customer : {};
  return {
    session_id: item.session_id,
    queue: text(item.queue),
    queued_at: num(item.queued_at),
    reason: text(item.reason),
    first_message: text(item.first_message),
    page: cleanPage(item.page),
    customer: { id: text(customer.id), name: text(customer.name) },
    // a message left while no one could serve the queue (a follow-up)
    left_message: isObj(item.left_message) ? { text: text(item.left_message.text), at: num(item.left_message.at) } : null,
  };
}

function cleanAgent(a) {
  if (!isObj(a)) return null;
  return {
    id: text(a.id),
    name: text(a.name),
    skills: Array.isArray(a.skills) ? a.skills.filter((s) => typeof s === "string") : [],
    presence: text(a.presence) || "offline",
    capacity: num(a.capacity) ?? 0,
    sessions: Array.isArray(a.sessions) ? a.sessions.filter((s) => typeof s === "string") : [],
  };
}

function newEntry(id) {
  return {
    id,
    session: { session_id: id, state: "", queue: "", agent: null, csat: null },
    customer: { id: "", name: "", attributes: {} },
    reason: "",
    page: { url: "", title: "", ts: null },
    pages: [],
    understanding: null,
    externalNotes: [], // notes other systems added through the REST API
    queuedAt: null,
    acceptedAt: null,
    messages: new Map(), // seq -> Message
    pending: new Map(), // client_id -> {client_id, text, ts, status: "sending" | "failed", error}
    lastSeq: 0,
    unread: 0,
    customerTyping: false,
    typingTimer: 0,
  };
}

const TYPING_EXPIRY_MS = 8000;

export function createStore() {
  const events = createEmitter();
  let agent = null;
  let queue = []; // the first page (queue.snapshot, then queue.changes)
  let queueTotal = 0; // how many wait in all for this agent
  let connection = "offline";
  let selectedId = null;
  const sessions = new Map();
  const gone = new Set(); // sessions that left us: late pushes for them are ignored
  const orphans = new Map(); // pushes for a session that came before its handoff

  function pageVisible() {
    return typeof document === "undefined" || document.visibilityState !== "hidden";
  }

  function isOwn(message) {
    return message.sender.role === "agent" && agent != null && message.sender.id === agent.id;
  }

  // add messages to a held session; returns {added, gap} (gap: a seq is missing before them)
  function mergeMessages(entry, list, live) {
    let added = 0;
    let unread = 0;
    const before = entry.lastSeq;
    let lowest = Infinity;
    for (const raw of list) {
      const message = cleanMessage(raw);
      if (!message || message.session_id !== entry.id) continue;
      if (message.client_id) entry.pending.delete(message.client_id);
      if (entry.messages.has(message.seq)) continue;
      entry.messages.set(message.seq, message);
      added += 1;
      lowest = Math.min(lowest, message.seq);
      entry.lastSeq = Math.max(entry.lastSeq, message.seq);
      if (message.sender.role === "customer" && entry.customerTyping) setTyping(entry.id, false);
      if (live && !isOwn(message) && !(selectedId === entry.id && pageVisible())) unread += 1;
    }
    if (unread) entry.unread += unread;
    const gap = live && added > 0 && lowest > before + 1;
    return { added, gap, unread };
  }

  function setTyping(id, typing) {
    const entry = sessions.get(id);
    if (!entry) return;
    clearTimeout(entry.typingTimer);
    if (typing) entry.typingTimer = setTimeout(() => setTyping(id, false), TYPING_EXPIRY_MS);
    if (entry.customerTyping !== typing) {
      entry.customerTyping = typing;
      events.emit("typing", id);
    }
  }

  function removeSession(id) {
    const entry = sessions.get(id);
    gone.add(id);
    orphans.delete(id);
    if (!entry) return false;
    clearTimeout(entry.typingTimer);
    sessions.delete(id);
    if (selectedId === id) {
      selectedId = sessions.keys().next().value ?? null;
      if (selectedId) sessions.get(selectedId).unread = 0;
      events.emit("selected", selectedId);
    }
    events.emit("sessions");
    return true;
  }

  return {
    on: events.on,

    get agent() {
      return agent;
    },
    get queue() {
      return queue;
    },
    get connection() {
      return connection;
    },
    get selectedId() {
      return selectedId;
    },
    get selected() {
      return selectedId ? sessions.get(selectedId) || null : null;
    },
    get(id) {
      return sessions.get(id) || null;
    },
    list() {
      return [...sessions.values()];
    },
    holds(id) {
      return sessions.has(id);
    },

    reset() {
      for (const entry of sessions.values()) clearTimeout(entry.typingTimer);
      sessions.clear();
      gone.clear();
      orphans.clear();
      agent = null;
      queue = [];
      queueTotal = 0;
      selectedId = null;
      events.emit("agent");
      events.emit("queue");
      events.emit("sessions");
      events.emit("selected", null);
    },

    setConnection(next) {
      if (connection === next) return;
      connection = next;
      events.emit("connection", next);
    },

    setAgent(raw) {
      const next = cleanAgent(raw);
      if (!next) return;
      agent = next;
      events.emit("agent");
      // the server's list is the truth: sessions that left us while we were away go
      const held = new Set(next.sessions);
      for (const id of [...sessions.keys()]) if (!held.has(id)) removeSession(id);
      for (const id of held) gone.delete(id);
    },

    // queue.snapshot: the first page of what the agent may take, and how many wait in all
    setQueue(raw) {
      const list = isObj(raw) && Array.isArray(raw.sessions) ? raw.sessions : [];
      queue = list.map(cleanQueueItem).filter(Boolean);
      queueTotal = isObj(raw) && Number.isInteger(raw.total) ? raw.total : queue.length;
      events.emit("queue");
    },

    // queue.changes: removes, adds (placed before the item they name, else at their index),
    // updates in place; then the new total
    applyQueueChanges(raw) {
      const changes = isObj(raw) && Array.isArray(raw.changes) ? raw.changes : [];
      let next = queue;
      for (const change of changes) {
        if (!isObj(change)) continue;
        if (change.op === "remove") {
          next = next.filter((item) => item.session_id !== change.session_id);
          continue;
        }
        const item = cleanQueueItem(change.session);
        if (!item) continue;
        if (change.op === "update") {
          next = next.map((old) => (old.session_id === item.session_id ? item : old));
        } else if (change.op === "add") {
          next = next.filter((old) => old.session_id !== item.session_id);
          let at = typeof change.before === "string" ? next.findIndex((old) => old.session_id === change.before) : -1;
          if (at < 0) at = change.before == null || !Number.isInteger(change.index) ? next.length : Math.min(change.index, next.length);
          next = [...next.slice(0, at), item, ...next.slice(at)];
        }
      }
      queue = next;
      if (isObj(raw) && Number.isInteger(raw.total)) queueTotal = raw.total;
      events.emit("queue");
    },

    get queueTotal() {
      return Math.max(queueTotal, queue.length);
    },

    dropQueueItem(id) {
      const next = queue.filter((item) => item.session_id !== id);
      if (next.length !== queue.length) {
        queue = next;
        queueTotal = Math.max(0, queueTotal - 1);
        events.emit("queue");
      }
    },

    // a Handoff (accept ack, session.handoff push): add or refresh a held session
    upsertHandoff(raw) {
      if (!isObj(raw)) return null;
      const session = cleanSession(raw.session);
      if (!session) return null;
      const id = session.session_id;
      gone.delete(id);
      const isNew = !sessions.has(id);
      const entry = sessions.get(id) || newEntry(id);
      entry.session = session;
      const customer = isObj(raw.customer) ? raw.customer : {};
      entry.customer = {
        id: text(customer.id),
        name: text(customer.name),
        attributes: isObj(customer.attributes) ? customer.attributes : {},
      };
      entry.reason = text(raw.reason);
      entry.page = cleanPage(raw.page);
      entry.pages = Array.isArray(raw.pages) ? raw.pages.map(cleanPage) : [];
      const u = isObj(raw.understanding) ? raw.understanding : null;
      entry.understanding = u
        ? {
            intent: text(u.intent),
            confidence: num(u.confidence),
            slots: isObj(u.slots) ? u.slots : {},
            unmatched: num(u.unmatched) ?? 0,
            // the customer's questions the assistant could not answer
            unanswered: Array.isArray(u.unanswered) ? u.unanswered.filter((q) => typeof q === "string") : [],
          }
        : null;
      entry.queuedAt = num(raw.queued_at);
      entry.acceptedAt = num(raw.accepted_at);
      entry.externalNotes = Array.isArray(raw.external_notes)
        ? raw.external_notes.filter(isObj).map((n) => ({ id: n.id, author: text(isObj(n.author) ? n.author.id : ""), text: text(n.text), ts: num(n.ts) }))
        : [];
      if (isNew) sessions.set(id, entry);
      mergeMessages(entry, Array.isArray(raw.transcript) ? raw.transcript : [], false);
      const early = orphans.get(id);
      if (early) {
        orphans.delete(id);
        mergeMessages(entry, early.messages, false);
        if (early.state) entry.session = early.state;
      }
      if (!selectedId) {
        selectedId = id;
        events.emit("selected", id);
      }
      events.emit("sessions");
      events.emit("session", id);
      events.emit("messages", id);
      return entry;
    },

    // a Session (session.state push, or an ack): returns the entry if we hold it
    setSession(raw) {
      const session = cleanSession(raw);
      if (!session) return null;
      const id = session.session_id;
      const entry = sessions.get(id);
      if (!entry) {
        if (!gone.has(id)) {
          const early = orphans.get(id) || { messages: [], state: null };
          early.state = session;
          if (orphans.size < ORPHAN_LIMIT) orphans.set(id, early);
        }
        return null;
      }
      const changed = entry.session.state !== session.state;
      entry.session = session;
      if (session.state !== "live") setTyping(id, false);
      events.emit("session", id);
      if (changed) events.emit("sessions");
      return entry;
    },

    // messages for a session: live pushes count as unread; returns {added, gap}
    addMessages(id, list, { live = false } = {}) {
      const entry = sessions.get(id);
      if (!entry) {
        if (!gone.has(id) && orphans.size < ORPHAN_LIMIT) {
          const early = orphans.get(id) || { messages: [], state: null };
          early.messages.push(...list);
          orphans.set(id, early);
        }
        return { added: 0, gap: false };
      }
      const result = mergeMessages(entry, list, live);
      if (result.added) events.emit("messages", id);
      if (result.unread) events.emit("sessions");
      return result;
    },

    addPending(id, pending) {
      const entry = sessions.get(id);
      if (!entry) return;
      entry.pending.set(pending.client_id, { status: "sending", error: "", ...pending });
      events.emit("messages", id);
    },

    updatePending(id, clientId, patch) {
      const entry = sessions.get(id);
      const pending = entry?.pending.get(clientId);
      if (!pending) return;
      Object.assign(pending, patch);
      events.emit("messages", id);
    },

    discardPending(id, clientId) {
      const entry = sessions.get(id);
      if (entry && entry.pending.delete(clientId)) events.emit("messages", id);
    },

    setTyping,

    removeSession,

    select(id) {
      if (id != null && !sessions.has(id)) return;
      const entry = id ? sessions.get(id) : null;
      const hadUnread = Boolean(entry && entry.unread);
      if (entry) entry.unread = 0;
      if (selectedId !== id) {
        selectedId = id;
        events.emit("selected", id);
        events.emit("sessions");
      } else if (hadUnread) {
        events.emit("sessions");
      }
    },

    markRead(id) {
      const entry = sessions.get(id);
      if (entry && entry.unread) {
        entry.unread = 0;
        events.emit("sessions");
      }
    },

    totalUnread() {
      let total = 0;
      for (const entry of sessions.values()) total += entry.unread;
      return total;
    },
  };
}
