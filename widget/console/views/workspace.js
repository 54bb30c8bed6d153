// The signed-in console: top bar, then three columns: queue + my sessions | conversation |
// context. Builds the views and tears them down again on sign-out.
import { h } from "../dom.js";
import { createHeader } from "./header.js";
import { createQueue } from "./queue.js";
import { createSessions } from "./sessions.js";
import { createChat } from "./chat.js";
import { createHandoff } from "./handoff.js";
import { createCallView } from "./call.js";
import { createCobrowseView } from "./cobrowse.js";

export function createWorkspace({ store, actions, calls, cobrowse, notice, provisionalName, onSignOut }) {
  const header = createHeader({ store, actions, provisionalName, onSignOut });
  const chat = createChat({ store, actions });
  const queue = createQueue({ store, actions, onAccepted: () => chat.focusInput() });
  const sessions = createSessions({ store, onSelect: (id) => store.select(id) });
  const handoff = createHandoff({ store });
  const call = createCallView({ store, calls });
  const cob = createCobrowseView({ store, cobrowse });

  const el = h(
    "div",
    { class: "workspace" },
    header.el,
    h(
      "div",
      { class: "columns" },
      h("div", { class: "col col--left" }, queue.el, sessions.el),
      h("main", { class: "col col--main" }, call.el, cob.el, chat.el),
      h("div", { class: "col col--context" }, handoff.el),
    ),
    notice.el,
  );

  return {
    el,
    destroy() {
      for (const view of [header, call, cob, chat, queue, sessions, handoff]) view.destroy();
      el.remove();
    },
  };
}
