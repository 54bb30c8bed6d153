// The widget's call chunk (built to dcs-call.js, loaded with import() only when a call
// starts, rings or is found under way). The first script hands it what it needs: a way to
// send requests, the current session id, the element to render into (inside the shadow
// root), and hooks to open the panel and to hear whether a call is active.
import { createCallController } from "./controller.js";
import { createCallUi } from "./ui.js";
import { createMiniCallBar, MINI_CSS } from "./mini.js";
import { CALL_CSS } from "./styles.js";
import { adoptStyles } from "../ui/dom.js";
import CALL_TEXTS from "./texts.js";

export function mountCall({ request, getSessionId, slot, layer = null, t = null, openPanel = () => {}, onActive = () => {} }) {
  adoptStyles(slot, CALL_CSS + (layer ? MINI_CSS : ""));
  const texts = t ? t.with(CALL_TEXTS) : null;
  let controller = null;
  let ui = null;
  let mini = null;
  let sessionId = null;

  function ensure(id) {
    if (controller && sessionId === id) return controller;
    if (controller) {
      ui.destroy();
      if (mini) mini.destroy();
      controller.destroy();
    }
    sessionId = id;
    controller = createCallController({
      role: "customer",
      sessionId: id,
      request,
      log: (...args) => console.debug("[DCS call]", ...args),
      text: texts || undefined, // the page's language
    });
    ui = createCallUi({ controller, otherLabel: texts ? texts("the_agent") : "The agent", t });
    slot.replaceChildren(ui.el);
    // a call stays in reach with the panel closed
    mini = layer && texts ? createMiniCallBar({ controller, layer, t: texts, openPanel }) : null;
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
      if (mini) mini.destroy();
      if (controller) controller.destroy();
      ui = controller = mini = null;
    },
  };
}
