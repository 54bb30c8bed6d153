// The co-browse strip above the conversation of the selected session (below the call
// strip): the session's co-browse panel while it is live. Each session keeps its own
// panel (and replay) in the page, hidden while another session is shown, so switching
// back finds the customer's page as it is now.
import { h, show } from "../dom.js";
import { createCobrowsePanel } from "../cobrowse/panel.js";
import { customerLabel } from "../format.js";

export function createCobrowseView({ store, cobrowse }) {
  const el = h("div", { class: "cob-strip", hidden: true });
  const panels = new Map(); // session id -> panel

  function panelFor(id) {
    const controller = cobrowse.get(id); // a new one announces itself ("created"): made there
    let panel = panels.get(id);
    if (panel) return panel;
    panel = createCobrowsePanel({
      controller,
      canRequest: () => {
        const entry = store.get(id);
        return Boolean(entry && entry.session.state === "live" && store.connection === "connected");
      },
      customerName: () => {
        const entry = store.get(id);
        return entry ? customerLabel(entry.customer) : "The customer";
      },
    });
    panels.set(id, panel);
    el.append(panel.el);
    panel.attached(); // the replay needs its root in the page
    return panel;
  }

  function visible(id) {
    const entry = id ? store.get(id) : null;
    if (!entry) return false;
    const state = cobrowse.has(id) ? cobrowse.get(id).snapshot().state : "idle";
    return entry.session.state === "live" || state === "active" || state === "requested";
  }

  function render() {
    const id = store.selectedId;
    const shown = visible(id);
    if (shown) panelFor(id);
    for (const [sid, panel] of panels) {
      show(panel.el, shown && sid === id);
      panel.render();
    }
    show(el, shown);
    if (shown) panels.get(id).attached(); // laid out now: fit the replay to its room
  }

  function drop(id) {
    const panel = panels.get(id);
    if (!panel) return;
    panels.delete(id);
    panel.destroy();
  }

  const offs = [
    store.on("selected", render),
    store.on("session", render),
    store.on("connection", render),
    // a co-browse that starts in another session gets its panel (and replay) at once
    cobrowse.on("created", (id) => {
      panelFor(id);
      render();
    }),
    cobrowse.on("change", (id) => {
      if (id === store.selectedId) render();
    }),
    cobrowse.on("dropped", (id) => {
      drop(id);
      render();
    }),
  ];
  for (const id of cobrowse.ids()) panelFor(id);
  render();

  return {
    el,
    destroy() {
      offs.forEach((off) => off());
      for (const id of [...panels.keys()]) drop(id);
    },
  };
}
