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
import { createTransferView } from "./transfer.js";
import { rememberSelection } from "../selection.js";
import { createAlertsView } from "./alerts.js";
import { createSplitter } from "./splitter.js";

export function createWorkspace({ store, actions, calls, cobrowse, transfers, notice, provisionalName, onSignOut, config = {} }) {
  const header = createHeader({ store, actions, provisionalName, onSignOut });
  const chat = createChat({ store, actions, config });
  const queue = createQueue({ store, actions, onAccepted: () => chat.focusInput() });
  const sessions = createSessions({ store, onSelect: (id) => store.select(id) });
  const handoff = createHandoff({ store });
  const call = createCallView({ store, calls });
  const cob = createCobrowseView({ store, cobrowse });
  const transfer = createTransferView({ store, transfers, notify: notice.say });
  const selection = rememberSelection(store); // after a reload: the session that was open
  const alerts = createAlertsView({ store }); // new chats: title, desktop notification, sound
  header.el.querySelector(".topbar__spacer").after(alerts.el);

  // the call and the customer's page share the middle column with the conversation: they
  // take at most their share of it (the splitter moves it), so the reply box stays in view
  const media = h("div", { part: "media", class: "media" }, call.el, cob.el);
  const main = h("main", { class: "col col--main" }, transfer.el, media);
  const splitter = createSplitter({ column: main });
  main.append(splitter.el, chat.el);
  const el = h(
    "div",
    { class: "workspace" },
    header.el,
    h(
      "div",
      { class: "columns" },
      h("div", { class: "col col--left" }, queue.el, sessions.el),
      main,
      h("div", { class: "col col--context" }, handoff.el),
    ),
    notice.el,
  );

  return {
    el,
    destroy() {
      for (const view of [header, call, cob, chat, queue, sessions, handoff, transfer, alerts]) view.destroy();
      selection.stop();
      el.remove();
    },
  };
}
