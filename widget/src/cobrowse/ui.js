// Co-browse UI in the widget's shadow root. Stable data-part hooks:
//   cobrowse-prompt cobrowse-allow cobrowse-decline               (in the panel: "see this page?")
//   cobrowse-control-prompt cobrowse-control-allow cobrowse-control-decline  ("control it?")
//   cobrowse-banner cobrowse-banner-text cobrowse-stop cobrowse-revoke cobrowse-move
// The banner is a small bar docked to a bottom corner (the one away from the launcher), so
// it never covers the site's header and menu; "Move" (or a drag) takes it to another
// corner, and Stop is always one click away. With the panel open on a phone it sits above
// the panel instead. Text always goes in as text: nothing here parses HTML.
import { h as el, setText } from "../ui/dom.js";
import COBROWSE_TEXTS from "./texts.js";

const CORNERS = ["bottom-start", "top-start", "top-end", "bottom-end"];

function english(key, vars) {
  const text = COBROWSE_TEXTS[key] != null ? COBROWSE_TEXTS[key] : key;
  return vars ? text.replace(/\{(\w+)\}/g, (all, name) => (vars[name] != null ? String(vars[name]) : all)) : text;
}

let uid = 0;

// A consent prompt (role=alertdialog): Escape declines.
function prompt({ t, part, desc, onAnswer }) {
  uid += 1;
  const ids = { title: `dcs-cb-title-${uid}`, desc: `dcs-cb-desc-${uid}` };
  const title = el("p", { id: ids.title, class: "dcs-cb-prompt__title" });
  const allow = el("button", { type: "button", part: `${part}-allow`, class: "dcs-cb-btn dcs-cb-allow", onclick: () => onAnswer(true) }, t("cb_allow"));
  const decline = el("button", { type: "button", part: `${part}-decline`, class: "dcs-cb-btn", onclick: () => onAnswer(false) }, t("cb_decline"));
  const root = el(
    "div",
    { part: `${part}-prompt`, class: "dcs-cb-prompt", role: "alertdialog", "aria-labelledby": ids.title, "aria-describedby": ids.desc, tabindex: "-1", hidden: true },
    title,
    el("p", { id: ids.desc, class: "dcs-cb-prompt__desc" }, desc),
    el("div", { class: "dcs-cb-prompt__actions" }, allow, decline),
  );
  root.addEventListener("keydown", (e) => {
    if (e.key === "Escape") {
      e.stopPropagation();
      onAnswer(false);
    }
  });
  return { root, title, buttons: [allow, decline] };
}

// slot: where prompts go (in the panel); layer: the shadow root's container (banner)
export function createCobrowseUi({ slot, layer, onAnswer, onStop, onRevoke, t: given = null }) {
  const t = given ? given.with(COBROWSE_TEXTS) : english;
  const view = prompt({
    t,
    part: "cobrowse",
    desc: t("cb_view_desc"),
    onAnswer: (accept) => onAnswer("view", accept),
  });
  const control = prompt({
    t,
    part: "cobrowse-control",
    desc: t("cb_control_desc"),
    onAnswer: (accept) => onAnswer("control", accept),
  });
  const bannerText = el("span", { part: "cobrowse-banner-text", class: "dcs-cb-banner__text" });
  const revoke = el("button", { type: "button", part: "cobrowse-revoke", class: "dcs-cb-btn", onclick: onRevoke }, t("cb_revoke"));
  const stop = el("button", { type: "button", part: "cobrowse-stop", class: "dcs-cb-btn", onclick: onStop }, t("cb_stop"));
  const move = el("button", { type: "button", part: "cobrowse-move", class: "dcs-cb-move", "aria-label": t("cb_move"), title: t("cb_move"), onclick: () => dock(CORNERS[(CORNERS.indexOf(corner) + 1) % CORNERS.length]) });
  const banner = el("div", { part: "cobrowse-banner", class: "dcs-cb-banner", role: "region", "aria-label": t("cb_banner"), hidden: true }, move, el("span", { role: "status", class: "dcs-cb-banner__live" }, bannerText), stop);
  // away from the launcher: the bottom corner on the other side
  const launcherAtStart = (layer.getAttribute("data-position") === "left") !== (layer.getAttribute("dir") === "rtl");
  let corner = launcherAtStart ? "bottom-end" : "bottom-start";
  function dock(where) {
    corner = CORNERS.includes(where) ? where : "bottom-start";
    banner.setAttribute("data-corner", corner);
  }
  dock(corner);
  // dragged by its grip, it lands in the nearest corner
  move.addEventListener("pointerdown", (e) => {
    if (e.button !== 0) return;
    const startX = e.clientX;
    const startY = e.clientY;
    const up = (u) => {
      window.removeEventListener("pointerup", up, true);
      if (Math.abs(u.clientX - startX) + Math.abs(u.clientY - startY) < 12) return; // a click: onclick moves it
      const rtl = getComputedStyle(layer).direction === "rtl";
      const left = u.clientX < window.innerWidth / 2;
      const top = u.clientY < window.innerHeight / 2;
      dock(`${top ? "top" : "bottom"}-${left !== rtl ? "start" : "end"}`);
      suppressClick = true;
    };
    window.addEventListener("pointerup", up, true);
  });
  let suppressClick = false;
  move.addEventListener(
    "click",
    (e) => {
      if (!suppressClick) return;
      suppressClick = false;
      e.stopImmediatePropagation();
    },
    true,
  );
  // says what ended (a removed banner is not announced)
  const live = el("p", { class: "sr", role: "status", "aria-live": "polite" });
  slot.append(view.root, control.root);
  layer.append(banner, live);
  // on small screens the panel makes room below the banner, however many lines it takes
  const sizer =
    typeof ResizeObserver === "function"
      ? new ResizeObserver(() => layer.style.setProperty("--dcs-cb-banner-h", `${Math.ceil(banner.offsetHeight)}px`))
      : null;
  if (sizer) sizer.observe(banner);

  function show(node, visible) {
    if (node.hidden === !!visible) node.hidden = !visible;
  }

  function focusIn(root) {
    const active = root.getRootNode().activeElement;
    if (!active || !root.contains(active)) root.focus();
  }

  return {
    // s: {state, agentName, askedByAgent, control, busy}
    render(s) {
      const name = s.agentName;
      const asking = s.state === "requested" && s.askedByAgent;
      const active = s.state === "active";
      setText(view.title, t("cb_view_title", { name }));
      show(view.root, asking);
      setText(control.title, t("cb_control_title", { name }));
      show(control.root, active && s.control === "requested");
      for (const b of [...view.buttons, ...control.buttons, revoke, stop]) b.disabled = !!s.busy;
      setText(bannerText, s.control === "granted" ? t("cb_controls", { name }) : t("cb_sees", { name }));
      // in the banner only while granted, so its text says exactly what is true
      if (s.control === "granted" && !revoke.isConnected) stop.before(revoke);
      else if (s.control !== "granted" && revoke.isConnected) revoke.remove();
      show(banner, active);
      layer.toggleAttribute("data-cobrowse-banner", active);
    },
    focusPrompt() {
      if (!view.root.hidden) focusIn(view.root);
    },
    focusControlPrompt() {
      if (!control.root.hidden) focusIn(control.root);
    },
    // whether keyboard focus is in one of the prompts (about to go away)
    hasFocus() {
      const active = layer.getRootNode().activeElement;
      return !!active && (view.root.contains(active) || control.root.contains(active));
    },
    text: t,
    announce(text) {
      setText(live, "");
      setTimeout(() => setText(live, text), 50);
    },
    destroy() {
      if (sizer) sizer.disconnect();
      layer.style.removeProperty("--dcs-cb-banner-h");
      view.root.remove();
      control.root.remove();
      banner.remove();
      live.remove();
      layer.removeAttribute("data-cobrowse-banner");
    },
  };
}
