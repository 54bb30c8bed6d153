// The co-browse panel of one session: See customer's page / Stop, Request control,
// Highlight, the status line (a polite live region), the indicators (page, viewport and
// scroll, hidden tab, transport), the scaled replay with its overlay, and the small field
// the agent types into once they picked a field of the customer's page (with control).
import { h, nextId, setAttr, setText, show } from "../dom.js";
import { createGuide } from "./guide.js";

const MASKED = /\*/; // a value the customer's device masked (wholly or in part): never send it back

function round(n) {
  return Math.round(Number(n) || 0);
}

export function createCobrowsePanel({ controller, canRequest, customerName }) {
  const titleId = nextId("cob-title");
  const typeId = nextId("cob-type");
  const viewer = controller.viewer;

  const request = h("button", { type: "button", part: "cobrowse-request", class: "btn btn--small" }, "See customer's page");
  const stop = h("button", { type: "button", part: "cobrowse-stop", class: "btn btn--danger btn--small" }, "Stop");
  const control = h("button", { type: "button", part: "cobrowse-control-request", class: "btn btn--small" }, "Request control");
  const highlight = h(
    "button",
    { type: "button", part: "cobrowse-highlight-mode", class: "btn btn--small", "aria-pressed": "false", title: "Then click an element of the page to highlight it for the customer" },
    "Highlight",
  );
  const status = h("p", { part: "cobrowse-status", class: "cob__status", role: "status", "aria-live": "polite" });
  const head = h(
    "header",
    { class: "cob__head" },
    h("h2", { id: titleId, class: "cob__title", text: "Customer's page" }),
    h("span", { class: "cob__actions" }, request, control, highlight, stop),
  );

  const pageTitle = h("span", { class: "cob__page-title" });
  const pageUrl = h("span", { class: "cob__page-url" });
  const url = h("span", { part: "cobrowse-url", class: "cob__ind cob__ind--url" }, pageTitle, " ", pageUrl);
  const viewport = h("span", { part: "cobrowse-viewport", class: "cob__ind" });
  const controlState = h("span", { part: "cobrowse-control", class: "cob__ind" });
  const hiddenTab = h("span", { part: "cobrowse-hidden", class: "cob__ind cob__ind--warn", hidden: true, text: "Customer's tab is hidden" });
  const transport = h("span", { part: "cobrowse-transport", class: "cob__ind" });
  const indicators = h("div", { class: "cob__indicators", "aria-label": "About the shared page", role: "group" }, url, viewport, hiddenTab, controlState, transport);

  const typeInput = h("input", { id: typeId, part: "cobrowse-type", class: "field cob__type-input", type: "text", autocomplete: "off", spellcheck: "false" });
  const typeSelect = h("select", { part: "cobrowse-choose", class: "field cob__type-input", "aria-labelledby": typeId + "-label" });
  const typeLabel = h("label", { id: typeId + "-label", for: typeId, class: "cob__type-label" });
  const typeDone = h("button", { type: "button", class: "btn btn--small" }, "Done");
  const typeForm = h("form", { class: "cob__type", hidden: true, novalidate: true }, typeLabel, typeInput, typeSelect, typeDone);

  const hint = h("p", { class: "cob__hint", hidden: true });
  const body = h("div", { class: "cob__body", hidden: true }, indicators, viewer.el, typeForm, hint);
  const el = h("section", { class: "cob", part: "cobrowse", "aria-labelledby": titleId }, head, status, body);

  let highlighting = false;
  let picked = null; // {id, kind, node}: the field the agent types into

  const snap = () => controller.snapshot();

  const guide = createGuide({
    viewer,
    send: (frame) => controller.send(frame),
    canControl: () => snap().control === "granted",
    highlighting: () => highlighting,
    onPick: (target) => pick(target),
    onDone: (why) => {
      if (why === "escape") setHighlighting(false);
    },
  });

  function setHighlighting(on) {
    highlighting = Boolean(on);
    render();
  }

  function pick(target) {
    picked = target;
    if (!target) {
      render();
      return;
    }
    if (target.kind === "masked") {
      picked = null;
      controller.note("That field is masked on the customer's device: you cannot type into it.");
      return;
    }
    const name = target.node.getAttribute("name") || target.node.getAttribute("aria-label") || target.node.getAttribute("placeholder") || target.kind;
    setText(typeLabel, `Type into the customer's field (${String(name).slice(0, 60)})`);
    if (target.kind === "select") {
      const options = [...target.node.querySelectorAll("option:not([hidden])")].slice(0, 500); // (not the view's neutral one)
      typeSelect.replaceChildren(...options.map((o) => h("option", { value: o.value }, o.textContent.slice(0, 120))));
      typeSelect.value = target.node.value;
    } else {
      const current = String(target.node.value || "");
      typeInput.value = MASKED.test(current) ? "" : current; // what is typed replaces the field's text
    }
    render();
    (target.kind === "select" ? typeSelect : typeInput).focus();
  }

  function sendValue(value) {
    if (picked) controller.send({ t: "input", id: picked.id, value: String(value).slice(0, 2000) });
  }

  // a button that hid itself under the keyboard (See… → Cancel, Request control → granted)
  // hands focus to the control that took its place
  function keepFocus(had) {
    if (!had || !el.contains(had) || !had.closest("[hidden]")) return;
    const order = had === control ? [highlight, stop] : [stop, request, highlight];
    const next = order.find((b) => !b.hidden);
    if (next) next.focus();
  }

  // aria-disabled, not disabled: a busy button keeps the keyboard focus
  function setEnabled(button, enabled) {
    setAttr(button, "aria-disabled", enabled ? null : "true");
  }
  const enabled = (button) => button.getAttribute("aria-disabled") !== "true";

  function render() {
    const had = document.activeElement;
    const s = snap();
    const sharing = s.state === "active";
    const open = s.state === "requested" || sharing;
    const granted = sharing && s.control === "granted";
    if (!granted) picked = null;
    if (!sharing) highlighting = false;

    show(request, !open);
    setEnabled(request, !s.busy && canRequest());
    show(stop, open);
    setEnabled(stop, s.busy !== "stop");
    setText(stop, sharing ? "Stop" : "Cancel");
    setAttr(stop, "aria-label", sharing ? "Stop co-browsing" : "Cancel the request to see the page");
    show(control, sharing && s.control !== "granted");
    setEnabled(control, !s.busy && s.control !== "requested");
    setText(control, s.control === "requested" ? "Control requested…" : "Request control");
    show(highlight, sharing);
    setAttr(highlight, "aria-pressed", highlighting ? "true" : "false");

    setText(status, s.status);
    show(body, sharing);

    setText(pageTitle, s.title || (s.href ? "" : "Waiting for the page…"));
    setText(pageUrl, s.href);
    setAttr(url, "title", s.href || null);
    setText(viewport, s.width ? `Viewport ${round(s.width)} × ${round(s.height)} · scrolled to ${round(s.scrollX)}, ${round(s.scrollY)}` : "Viewport unknown");
    setAttr(viewport, "data-width", s.width ? round(s.width) : null);
    setAttr(viewport, "data-height", s.height ? round(s.height) : null);
    setAttr(viewport, "data-scroll-x", s.width ? round(s.scrollX) : null);
    setAttr(viewport, "data-scroll-y", s.width ? round(s.scrollY) : null);
    show(hiddenTab, sharing && s.hidden);
    setText(controlState, `Control: ${s.control === "granted" ? "yours" : s.control === "requested" ? "requested" : "off"}`);
    setAttr(controlState, "data-control", s.control);
    setText(transport, s.transportText ? `Connection: ${s.transportText}` : "");
    setAttr(transport, "data-transport", s.transport || null);

    viewer.setWaitingText(s.stalled ? "Waiting for a fresh copy of the customer's page…" : "Waiting for the customer's page…");
    viewer.setLabel(`${customerName()}'s page${s.title ? `: ${s.title}` : ""}. ${granted ? "Click, scroll with the wheel or the arrow keys, or pick a field to type into." : "Move the pointer to show the customer where to look."}${highlighting ? " Highlight mode: click an element to highlight it." : ""}`);
    el.classList.toggle("cob--highlight", highlighting);
    el.classList.toggle("cob--control", granted);
    el.classList.toggle("cob--sharing", sharing);

    show(typeForm, Boolean(picked));
    show(typeInput, Boolean(picked) && picked.kind !== "select");
    show(typeSelect, Boolean(picked) && picked.kind === "select");
    const hintText = highlighting ? "Highlight mode: click an element of the page to highlight it for the customer (Esc to leave)." : "";
    setText(hint, hintText);
    show(hint, Boolean(hintText));
    keepFocus(had);
  }

  request.addEventListener("click", () => enabled(request) && controller.requestView());
  stop.addEventListener("click", () => enabled(stop) && controller.stop());
  control.addEventListener("click", () => enabled(control) && controller.requestControl());
  highlight.addEventListener("click", () => setHighlighting(!highlighting));
  typeInput.addEventListener("input", () => sendValue(typeInput.value));
  typeSelect.addEventListener("change", () => sendValue(typeSelect.value));
  typeForm.addEventListener("submit", (event) => event.preventDefault());
  const closeType = () => {
    picked = null;
    render();
    viewer.overlay.focus();
  };
  typeDone.addEventListener("click", closeType);
  typeForm.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      closeType();
    }
  });

  const offs = [
    controller.on("change", render),
    viewer.on("fresh", () => {
      picked = null; // that field was on the page the customer left
    }),
  ];
  render();

  return {
    el,
    render,
    attached() {
      viewer.attached();
    },
    destroy() {
      offs.forEach((off) => off());
      guide.destroy();
      el.remove();
    },
  };
}
