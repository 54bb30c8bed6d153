// Co-browse in the console: one co-browse controller (console/cobrowse/controller.js) per
// held session, made when the session is first shown or when co-browse shows up there (a
// push, or the handoff's `cobrowse`: a reloaded console resumes viewing). Routes
// cobrowse.state, cobrowse.signal and cobrowse.data pushes.
//
// Debugging hook: window.__dcsViewer = {state, transport, epoch, lastSeq, iframe, replayer,
// renderedAt, ...} for the co-browse that last started sharing. renderedAt holds
// {seq, t: performance.now()} once each "ev" frame was applied by the replayer (last 1000).
import { Event } from "../src/protocol.js";
import { createCobrowseController } from "./cobrowse/controller.js";
import { createEmitter } from "./emitter.js";
import { customerLabel } from "./format.js";

const ROUTED = new Set([Event.COBROWSE_STATE, Event.COBROWSE_SIGNAL, Event.COBROWSE_DATA]);
// Pushes for a session not held yet (they can beat the accept ack, which brings the
// session): kept a little while, then replayed once the session is held.
const ORPHAN_SESSIONS = 16;
const ORPHAN_PUSHES = 400;
const ORPHAN_MS = 30000;

function debugHook(controller, sessionId) {
  const viewer = controller.viewer;
  return {
    sessionId,
    get state() {
      return controller.snapshot().state;
    },
    get cobrowseId() {
      return controller.snapshot().cobrowseId;
    },
    get control() {
      return controller.snapshot().control;
    },
    get transport() {
      return controller.snapshot().transport;
    },
    get epoch() {
      return controller.epoch;
    },
    get lastSeq() {
      return controller.lastSeq;
    },
    get appliedSeq() {
      return viewer.appliedSeq;
    },
    get iframe() {
      return viewer.iframe;
    },
    get replayer() {
      return viewer.replayer;
    },
    get info() {
      return { ...viewer.info };
    },
    renderedAt: viewer.renderedAt,
    stats() {
      return controller.channel ? controller.channel.stats() : null;
    },
    send(frame) {
      controller.send(frame);
    },
  };
}

export function createCobrowse({ conn, store, notify }) {
  const events = createEmitter();
  const controllers = new Map(); // session id -> controller
  // A handoff is built a moment before it is sent, so one may say "no co-browse" while a
  // cobrowse.state push already said otherwise: only the first handoff after a (re)connect
  // (when pushes may have been missed) may end a co-browse; later ones only start one.
  let connection = 0;
  const heardSince = new Map(); // session id -> the connection its last handoff came on
  const offConnected = conn.on("connected", () => {
    connection += 1;
  });

  function get(id) {
    let controller = controllers.get(id);
    if (controller) return controller;
    const name = () => {
      const entry = store.get(id);
      return entry ? customerLabel(entry.customer) : "the customer";
    };
    controller = createCobrowseController({
      sessionId: id,
      request: (eventName, payload) => conn.request(eventName, payload),
      customerName: name,
      log: (...args) => console.debug("[DCS console cobrowse]", id, ...args),
    });
    let wasState = "idle";
    controller.on("change", () => {
      const { state } = controller.snapshot();
      if (state !== wasState) {
        if (state === "active" && typeof window !== "undefined") window.__dcsViewer = debugHook(controller, id);
        if (state === "active" && wasState !== "active" && store.selectedId !== id) {
          notify(`${name()} is sharing their page. Open their session to see it.`);
        }
        wasState = state;
      }
      events.emit("change", id);
    });
    controllers.set(id, controller);
    events.emit("created", id);
    return controller;
  }

  function drop(id) {
    const controller = controllers.get(id);
    if (!controller) return;
    controllers.delete(id);
    controller.destroy();
    events.emit("dropped", id);
  }

  const orphans = new Map(); // session id -> {since, pushes: [[name, data]]}

  function keepOrphan(id, name, data) {
    let early = orphans.get(id);
    if (!early || Date.now() - early.since > ORPHAN_MS) {
      orphans.delete(id);
      if (orphans.size >= ORPHAN_SESSIONS) orphans.delete(orphans.keys().next().value);
      early = { since: Date.now(), pushes: [] };
      orphans.set(id, early);
    }
    early.pushes.push([name, data]);
    if (early.pushes.length > ORPHAN_PUSHES) early.pushes.shift();
  }

  const off = store.on("sessions", () => {
    for (const id of [...controllers.keys()]) if (!store.holds(id)) drop(id);
    for (const id of [...heardSince.keys()]) if (!store.holds(id)) heardSince.delete(id);
    // a session taken on this connection: every push about it was heard
    for (const entry of store.list()) if (!heardSince.has(entry.id)) heardSince.set(entry.id, connection);
    for (const [id, early] of [...orphans]) {
      if (store.holds(id)) {
        orphans.delete(id);
        if (Date.now() - early.since <= ORPHAN_MS) for (const [name, data] of early.pushes) onPush(name, data);
      }
    }
  });

  function onPush(name, data) {
    if (name === Event.SESSION_HANDOFF) {
      const sid = data && data.session && typeof data.session.session_id === "string" ? data.session.session_id : "";
      if (!sid || !store.holds(sid)) return;
      const afterConnect = heardSince.get(sid) !== connection;
      heardSince.set(sid, connection);
      if (data.cobrowse) get(sid).resume(data.cobrowse);
      else if (afterConnect && controllers.has(sid)) controllers.get(sid).resume(null);
      return;
    }
    if (!ROUTED.has(name)) return;
    const id = data && typeof data.session_id === "string" ? data.session_id : "";
    if (!id) return;
    if (!store.holds(id)) {
      keepOrphan(id, name, data);
      return;
    }
    if (name !== Event.COBROWSE_STATE && !controllers.has(id)) return;
    get(id).push(name, data);
  }

  return {
    on: events.on,
    get,
    has: (id) => controllers.has(id),
    ids: () => [...controllers.keys()],
    onPush,
    destroy() {
      off();
      offConnected();
      orphans.clear();
      heardSince.clear();
      for (const id of [...controllers.keys()]) drop(id);
      events.clear();
    },
  };
}
