// The top bar: who is signed in, presence (a toggle button: pressed = available),
// capacity, connection state, sign out.
import { h, setAttr, setText, show } from "../dom.js";

const CONNECTION_TEXT = {
  connecting: "Connecting…",
  connected: "Connected",
  reconnecting: "Reconnecting…",
  offline: "Offline",
};

export function createHeader({ store, actions, provisionalName, onSignOut }) {
  const name = h("span", { part: "agent-name", class: "topbar__agent", text: provisionalName || "" });
  const presence = h(
    "button",
    {
      type: "button",
      part: "presence",
      class: "presence",
      "aria-pressed": "false",
      "data-status": "offline",
      title: "Take new sessions (toggle Available / Away)",
      onclick: () => {
        const next = presence.getAttribute("data-status") === "available" ? "away" : "available";
        actions.setPresence(next);
      },
    },
    h("span", { class: "presence__dot", "aria-hidden": "true" }),
    h("span", { class: "presence__label", text: "Available" }),
  );
  const awayHint = h("span", { class: "topbar__away", text: "Away", hidden: true });
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
    h("div", { class: "topbar__brand" }, h("span", { class: "topbar__logo", "aria-hidden": "true", text: "DCS" }), h("span", { text: "Agent console" })),
    h("div", { class: "topbar__who" }, h("span", { class: "sr-only", text: "Signed in as " }), name),
    h("div", { class: "topbar__presence" }, presence, awayHint),
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
    setAttr(presence, "aria-pressed", status === "available" ? "true" : "false");
    show(awayHint, status === "away");
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
