// The call strip above the conversation of the selected session: Call and Video while the
// session is live, the incoming-call prompt, the call bar and the videos (the shared call
// UI of widget/src/call/ui.js). Each session with a call keeps its own UI, so the
// customer's audio keeps playing while the agent reads another session.
import { h, show } from "../dom.js";
import { createCallUi } from "../../src/call/ui.js";
import { customerLabel } from "../format.js";

export function createCallView({ store, calls }) {
  const el = h("section", { class: "call-strip", "aria-label": "Call", hidden: true });
  const uis = new Map(); // session id -> call UI

  function uiFor(id) {
    let ui = uis.get(id);
    if (ui) return ui;
    const entry = store.get(id);
    ui = createCallUi({
      controller: calls.get(id),
      withStart: true,
      canStart: () => {
        const current = store.get(id);
        return Boolean(current && current.session.state === "live" && store.connection === "connected" && !calls.busyElsewhere(id));
      },
      otherLabel: entry ? customerLabel(entry.customer) : "The customer",
    });
    uis.set(id, ui);
    el.append(ui.el);
    return ui;
  }

  function render() {
    const id = store.selectedId;
    for (const [sid, ui] of uis) {
      show(ui.el, sid === id);
      ui.render();
    }
    if (id && store.get(id)) uiFor(id).render();
    show(el, Boolean(id && store.get(id)));
  }

  function drop(id) {
    const ui = uis.get(id);
    if (!ui) return;
    uis.delete(id);
    ui.destroy();
  }

  const offs = [
    store.on("selected", render),
    store.on("session", render),
    store.on("connection", render),
    calls.on("change", render),
    calls.on("dropped", (id) => {
      drop(id);
      render();
    }),
    calls.on("ring", (id) => {
      render();
      if (id === store.selectedId) uiFor(id).focusPrompt();
    }),
  ];
  render();

  return {
    el,
    destroy() {
      offs.forEach((off) => off());
      for (const id of [...uis.keys()]) drop(id);
    },
  };
}
