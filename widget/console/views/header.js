// The top bar: who is signed in, presence (a button that says the status: Available / Away),
// capacity, connection state, sign out.
import { h, setAttr, setText } from "../dom.js";

const CONNECTION_TEXT = {
  connecting: "Connecting…",
  connected: "Connected",
  reconnecting: "Reconnecting…",
  offline: "Offline",
};

export function createHeader({ store, actions, provisionalName, onSignOut }) {
  // the button says the state the agent is in ("Available" / "Away"); its title, what a press does
  const presenceLabel = h("span", { class: "presence__label", text: "Available" });
  const name = h("span", { part: "agent-name", class: "topbar__agent", text: provisionalName || "" });
  const presence = h(
    "button",
    {
      type: "button",
      part: "presence",
      class: "presence",
      "data-status": "offline",
      title: "Your status: press to switch between Available and Away",
      onclick: () => {
        const next = presence.getAttribute("data-status") === "available" ? "away" : "available";
        actions.setPresence(next);
      },
    },
    h("span", { class: "presence__dot", "aria-hidden": "true" }),
    presenceLabel,
  );
  const capacity = h("span", { part: "capacity", class: "topbar__capacity", text: "" });
  const connection = h("span", {
    part: "connection",
    class: "connection",
    role: "status",
    "data-state": store.connection,
    text: CONNECTION_TEXT[store.connection] || "",
  });
  const signout = h("button", { type: "button", part: "signout", class: "btn btn--quiet", onclick: onSignOut }, "Sign out");

  const el = h(
    "header",
    { class: "topbar" },
    h("h1", { class: "topbar__brand" }, h("span", { class: "topbar__logo", "aria-hidden": "true", text: "DCS" }), h("span", { text: "Agent console" })),
    h("div", { class: "topbar__who" }, h("span", { class: "sr-only", text: "Signed in as " }), name),
    h("div", { class: "topbar__presence" }, presence),
    capacity,
    h("span", { class: "topbar__spacer" }),
    connection,
    signout,
  );

  function renderAgent() {
    const agent = store.agent;
    if (!agent) return;
    setText(name, agent.name || agent.id);
    const status = agent.presence;
    setAttr(presence, "data-status", status);
    setText(presenceLabel, status === "away" ? "Away" : status === "available" ? "Available" : "Offline");
    const held = agent.sessions.length;
    setText(capacity, `${held} / ${agent.capacity} sessions`);
    setAttr(capacity, "data-full", agent.capacity > 0 && held >= agent.capacity ? "true" : null);
  }

  function renderConnection() {
    const state = store.connection;
    setAttr(connection, "data-state", state);
    setText(connection, CONNECTION_TEXT[state] || state);
    presence.disabled = state !== "connected";
  }

  const offs = [store.on("agent", renderAgent), store.on("connection", renderConnection)];
  renderAgent();
  renderConnection();

  return {
    el,
    destroy() {
      offs.forEach((off) => off());
    },
  };
}
