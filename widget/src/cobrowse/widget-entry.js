// The widget's co-browse chunk (built to dcs-cobrowse.js, loaded with import() only when
// co-browse is asked for, started, or found under way). The first script hands it a way to
// send requests, the current session id, the panel's slot for prompts, the shadow root's
// container for the banner and overlay, and hooks to open the panel and report the state.
// startRecording is exported too, for the privacy test that drives rrweb directly.
import { createCobrowseController } from "./controller.js";
import { COBROWSE_CSS } from "./styles.js";
import { adoptStyles } from "../ui/dom.js";

export { startRecording } from "./recorder.js";

export function mountCobrowse({
  request,
  getSessionId,
  slot,
  layer,
  policy = {},
  openPanel = () => {},
  focusPanel = () => {},
  notice = () => {},
  onState = () => {},
  t = null,
}) {
  adoptStyles(layer, COBROWSE_CSS);
  let controller = null;
  let sessionId = null;
  const log = (...args) => console.debug("[DCS co-browse]", ...args);

  function ensure(id) {
    if (controller && sessionId === id) return controller;
    if (controller) controller.destroy();
    sessionId = id;
    controller = createCobrowseController({ sessionId: id, request, policy, slot, layer, openPanel, focusPanel, notice, onState, log, t });
    return controller;
  }

  // a debugging hook for tests and the bench (docs/protocol.md)
  window.__dcsCobrowse = {
    get state() {
      return controller ? controller.state : "idle";
    },
    get cobrowse() {
      return controller ? controller.cobrowse : null;
    },
    get transport() {
      return controller ? controller.transport : null;
    },
    get epoch() {
      return controller ? controller.epoch : null;
    },
    stats() {
      return controller ? controller.stats() : null;
    },
    get pc() {
      return controller ? controller.pc : null;
    },
  };

  const current = () => {
    const id = getSessionId();
    return id ? ensure(id) : null;
  };

  return {
    push(name, data) {
      const id = getSessionId();
      if (id && data && data.session_id === id) ensure(id).push(name, data);
    },
    resume(cobrowse) {
      const id = getSessionId();
      if (id && (cobrowse || (controller && sessionId === id))) ensure(id).resume(cobrowse || null);
    },
    share() {
      const c = current();
      return c ? c.share() : Promise.resolve(false);
    },
    stop() {
      return controller && sessionId === getSessionId() ? controller.stop() : Promise.resolve(true);
    },
    // the session is no longer live (or another one is shown)
    sessionEnded() {
      if (controller) controller.sessionEnded();
    },
    destroy() {
      if (controller) controller.destroy();
      controller = null;
      onState("idle");
    },
  };
}
