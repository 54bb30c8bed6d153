// The widget's call chunk (built to dcs-call.js, loaded with import() only when a call
// starts, rings or is found under way). The first script hands it what it needs: a way to
// send requests, the current session id, the element to render into (inside the shadow
// root), and hooks to open the panel and to hear whether a call is active.
import { createCallController } from "./controller.js";
import { createCallUi } from "./ui.js";
import { CALL_CSS } from "./styles.js";
import { adoptStyles } from "../ui/dom.js";

export function mountCall({ request, getSessionId, slot, openPanel = () => {}, onActive = () => {} }) {
  adoptStyles(slot, CALL_CSS);
  let controller = null;
  let ui = null;
  let sessionId = null;

  function ensure(id) {
    if (controller && sessionId === id) return controller;
    if (controller) {
      ui.destroy();
      controller.destroy();
    }
    sessionId = id;
    controller = createCallController({
      role: "customer",
      sessionId: id,
      request,
      log: (...args) => console.debug("[DCS call]", ...args),
    });
    ui = createCallUi({ controller, otherLabel: "The agent" });
    slot.replaceChildren(ui.el);
    controller.on("change", (s) => onActive(s.active));
    controller.on("ring", () => {
      openPanel();
      ui.render();
      ui.focusPrompt();
    });
    return controller;
  }

  return {
    push(name, data) {
      const id = getSessionId();
      if (id && data && data.session_id === id) ensure(id).push(name, data);
    },
    resume(call) {
      const id = getSessionId();
      if (id && (call || (controller && sessionId === id))) ensure(id).resume(call || null);
    },
    start(video) {
      const id = getSessionId();
      return id ? ensure(id).start({ video: !!video }) : Promise.resolve(false);
    },
    destroy() {
      if (ui) ui.destroy();
      if (controller) controller.destroy();
      ui = controller = null;
    },
  };
}
