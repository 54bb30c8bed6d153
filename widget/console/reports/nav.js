// A small view switch for the supervisor's header: "Floor" (the live wall) and "Reports".
// Buttons with aria-pressed; the chosen view is shown, the others hidden.
import { h, setAttr, show } from "../dom.js";

export function createViewNav(views) {
  const buttons = views.map((view) =>
    h("button", { type: "button", class: "btn btn--quiet topbar__view", "data-view": view.key, onclick: () => choose(view.key) }, view.label),
  );
  function choose(key) {
    views.forEach((view, i) => {
      const on = view.key === key;
      setAttr(buttons[i], "aria-pressed", on ? "true" : "false");
      if (view.show) view.show(on);
      else show(view.el, on);
    });
  }
  choose(views[0].key);
  return { el: h("nav", { class: "topbar__views", "aria-label": "Views" }, buttons), choose };
}
