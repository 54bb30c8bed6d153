// Calls in the console: one call controller (widget/src/call/controller.js) per held
// session, made when a call rings or is found under way there, or when the agent calls.
// The agent is on one call at a time: Call and Video are offered only while no other
// session has a call under way. Routes call.state and rtc.signal pushes, and the
// handoff's `call` (a reloaded console rejoins the call under way).
//
// Debugging hook: window.__dcsCall = {role, sessionId, pc, pcId, stats(), state} for the
// call that last made a connection (the browser tests read getStats() through it).
import { Event } from "../src/protocol.js";
import { createCallController } from "../src/call/controller.js";
import { createEmitter } from "./emitter.js";
import { customerLabel } from "./format.js";

export function createCalls({ conn, store, notify }) {
  const events = createEmitter();
  const controllers = new Map(); // session id -> controller

  function get(id) {
    let controller = controllers.get(id);
    if (controller) return controller;
    controller = createCallController({
      role: "agent",
      sessionId: id,
      request: (name, payload) => conn.request(name, payload),
      log: (...args) => console.debug("[DCS console call]", id, ...args),
    });
    controller.on("change", () => events.emit("change", id));
    controller.on("ring", (snap) => {
      if (store.selectedId !== id) {
        const entry = store.get(id);
        const who = entry ? customerLabel(entry.customer) : snap.caller;
        notify(`${who} is calling you. Open their session to answer.`);
      }
      events.emit("ring", id);
    });
    controllers.set(id, controller);
    return controller;
  }

  function drop(id) {
    const controller = controllers.get(id);
    if (!controller) return;
    controllers.delete(id);
    controller.destroy();
    events.emit("dropped", id);
  }

  const off = store.on("sessions", () => {
    for (const id of [...controllers.keys()]) if (!store.holds(id)) drop(id);
  });

  function onPush(name, data) {
    const id = data && typeof data.session_id === "string" ? data.session_id : "";
    if (name === Event.SESSION_HANDOFF) {
      const sid = data && data.session && typeof data.session.session_id === "string" ? data.session.session_id : "";
      if (!sid || !store.holds(sid)) return;
      if (data.call) get(sid).resume(data.call);
      else if (controllers.has(sid)) controllers.get(sid).resume(null);
      return;
    }
    if (name !== Event.CALL_STATE && name !== Event.RTC_SIGNAL) return;
    if (!id || !store.holds(id)) return;
    if (name === Event.RTC_SIGNAL && !controllers.has(id)) return;
    get(id).push(name, data);
  }

  return {
    on: events.on,
    get,
    has: (id) => controllers.has(id),
    onPush,
    // whether a session other than `id` has a call under way
    busyElsewhere(id) {
      for (const [sid, controller] of controllers) if (sid !== id && controller.snapshot().active) return true;
      return false;
    },
    destroy() {
      off();
      for (const id of [...controllers.keys()]) drop(id);
      events.clear();
    },
  };
}
