// The supervisor's console: the live wall (pushed: a snapshot, then changes) beside a
// step-in panel for one session. Built when the signed-in token is a supervisor's.
import { Event } from "../../src/protocol.js";
import { h, setAttr, setText } from "../dom.js";
import { errorText } from "../actions.js";
import { createWallModel } from "./model.js";
import { createWallView } from "./wall.js";
import { createStepIn } from "./stepin.js";
import { createReportsView } from "../reports/index.js";
import { createViewNav } from "../reports/nav.js";
import { createConfirm } from "../views/confirm.js";

const CONNECTION_TEXT = { connecting: "Connecting…", connected: "Connected", reconnecting: "Reconnecting…", offline: "Offline" };

export function createSupervisorConsole({ conn, notice, name, onSignOut, getToken }) {
  const model = createWallModel();
  // the console's own modal confirmation (views/confirm.js), as for "End session": keyboard
  // operable, focus moved in on Cancel and given back to the row's button after
  const confirm = createConfirm();
  const stepIn = createStepIn({ conn, model, notify: notice.say, onLeft: (id) => wall.focusSession(id) });
  const wall = createWallView({
    model,
    onOpen: (id) => stepIn.open(id),
    onAgent: async (agent, action) => {
      if (action === "sign_out") {
        const sure = await confirm.ask({
          title: `Sign ${agent.name || agent.id} out?`,
          text: "Their chats go back to the front of their queues for another agent.",
          confirm: "Sign out",
        });
        // the row may have been redrawn while the dialog was open: focus its new button
        if (!el.contains(document.activeElement)) wall.focusAction(`a:${agent.id}`, "agent-signout");
        if (!sure) return;
      }
      const ack = await conn.request(Event.SUPERVISOR_AGENT, { agent_id: agent.id, action });
      if (ack.ok) notice.say(action === "away" ? `${agent.name} is away now.` : `${agent.name} is signed out; ${ack.handed_on.length} chat(s) went back to the queue.`);
      else notice.say(errorText(ack.error, "Could not do that."));
    },
  });
  const connection = h("span", { class: "connection", role: "status", "data-part": "connection", text: "" });
  // the live floor and the Reports view (reports/: figures over the REST API), one at a time
  const columns = h("div", { class: "supervisor__columns" }, h("main", { class: "supervisor__wall" }, wall.el), h("aside", { class: "supervisor__stepin" }, stepIn.el));
  const reports = createReportsView({ getToken, notify: notice.say });
  const nav = createViewNav([
    { key: "floor", label: "Floor", el: columns },
    { key: "reports", label: "Reports", el: reports.el, show: reports.show },
  ]);
  const header = h(
    "header",
    { class: "topbar" },
    h("h1", { class: "topbar__brand" }, h("span", { class: "topbar__logo", "aria-hidden": "true", text: "DCS" }), h("span", { text: "Supervisor" })),
    h("div", { class: "topbar__who" }, h("span", { class: "sr-only", text: "Signed in as " }), h("span", { "data-part": "agent-name", text: name || "" })),
    nav.el,
    h("span", { class: "topbar__spacer" }),
    connection,
    h("button", { type: "button", class: "btn btn--quiet", "data-part": "signout", onclick: onSignOut }, "Sign out"),
  );
  const el = h("div", { class: "workspace workspace--supervisor", "data-part": "supervisor" }, header, columns, reports.el, notice.el, confirm.el);

  return {
    el,
    onState(state) {
      setAttr(connection, "data-state", state);
      setText(connection, CONNECTION_TEXT[state] || "");
    },
    onConnected({ reconnect }) {
      if (reconnect) stepIn.reobserve();
    },
    onPush(name, data) {
      if (name === Event.WALL_SNAPSHOT) model.snapshot(data);
      else if (name === Event.WALL_CHANGES) model.changes(data);
      else stepIn.onPush(name, data);
    },
    destroy() {
      confirm.destroy();
      wall.destroy();
      stepIn.destroy();
      reports.destroy();
      el.remove();
    },
  };
}
