// Co-browse UI in the widget's shadow root. Stable data-part hooks:
//   cobrowse-prompt cobrowse-allow cobrowse-decline               (in the panel: "see this page?")
//   cobrowse-control-prompt cobrowse-control-allow cobrowse-control-decline  ("control it?")
//   cobrowse-banner cobrowse-banner-text cobrowse-stop cobrowse-revoke  (fixed, panel open or not)
// Text always goes in as text: nothing here parses HTML.
import { h as el, setText } from "../ui/dom.js";

let uid = 0;

// A consent prompt (role=alertdialog): Escape declines.
function prompt({ part, desc, onAnswer }) {
  uid += 1;
  const ids = { title: `dcs-cb-title-${uid}`, desc: `dcs-cb-desc-${uid}` };
  const title = el("p", { id: ids.title, class: "dcs-cb-prompt__title" });
  const allow = el("button", { type: "button", part: `${part}-allow`, class: "dcs-cb-btn dcs-cb-allow", onclick: () => onAnswer(true) }, "Allow");
  const decline = el("button", { type: "button", part: `${part}-decline`, class: "dcs-cb-btn", onclick: () => onAnswer(false) }, "Decline");
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
export function createCobrowseUi({ slot, layer, onAnswer, onStop, onRevoke }) {
  const view = prompt({
    part: "cobrowse",
    desc: "They will see this page as you see it, not your other tabs or apps. Passwords, card numbers and other protected fields stay hidden. You can stop at any time.",
    onAnswer: (accept) => onAnswer("view", accept),
  });
  const control = prompt({
    part: "cobrowse-control",
    desc: "You can take back control at any time.",
    onAnswer: (accept) => onAnswer("control", accept),
  });
  const bannerText = el("span", { part: "cobrowse-banner-text", class: "dcs-cb-banner__text" });
  const revoke = el("button", { type: "button", part: "cobrowse-revoke", class: "dcs-cb-btn", onclick: onRevoke }, "Take back control");
  const stop = el("button", { type: "button", part: "cobrowse-stop", class: "dcs-cb-btn", onclick: onStop }, "Stop sharing");
  const banner = el("div", { part: "cobrowse-banner", class: "dcs-cb-banner", role: "status", "aria-label": "Page sharing", hidden: true }, bannerText, stop);
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
      setText(view.title, `${name} would like to see this page`);
      show(view.root, asking);
      setText(control.title, `${name} would like to control this page (click, scroll and type for you)`);
      show(control.root, active && s.control === "requested");
      for (const b of [...view.buttons, ...control.buttons, revoke, stop]) b.disabled = !!s.busy;
      setText(bannerText, s.control === "granted" ? `${name} can see and control this page` : `${name} can see this page`);
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
