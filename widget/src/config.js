// The widget's configuration: window.DCSConfig (set before the script) wins over the
// script tag's data-attributes. Must run synchronously while the script executes, because
// document.currentScript is only set then.

// The site's co-browse policy: window.DCSConfig.cobrowse = {allowInputs: ["note", "order"]}
// or data-cobrowse-allow-inputs="note,order": the names/ids of inputs the agent may see
// (every other input is masked on the device) and, with control granted, type into.
// DCSConfig.cobrowse.canvas = true or data-cobrowse-canvas="true": canvases are recorded too
// (cobrowse/canvas.js); off by default, as a canvas can show anything.
function cobrowsePolicy(given, attribute, canvasAttribute) {
  const object = given && typeof given === "object" ? given : null;
  let names = object ? object.allowInputs : attribute;
  if (typeof names === "string") names = names.split(/[\s,]+/);
  const canvas = object && object.canvas != null ? object.canvas : canvasAttribute;
  return {
    allowInputs: Array.isArray(names) ? names.map((n) => String(n).trim()).filter(Boolean) : [],
    canvas: canvas === true || canvas === "true",
  };
}

// The chunks' content-hashed file names, put in by the build (widget/build.mjs).
/* global __DCS_CHUNKS__ */
const CHUNKS =
  typeof __DCS_CHUNKS__ === "object" ? __DCS_CHUNKS__ : { call: "dcs-call.js", cobrowse: "dcs-cobrowse.js" };

export function readConfig(win = window, doc = document) {
  const script = doc.currentScript || doc.querySelector("script[data-token-url]");
  const data = (script && script.dataset) || {};
  const given = (win.DCSConfig && typeof win.DCSConfig === "object" && win.DCSConfig) || {};
  let origin = win.location.origin;
  let scriptSrc = "";
  try {
    if (script && script.src) {
      scriptSrc = new URL(script.src, win.location.href).href;
      origin = new URL(scriptSrc).origin;
    }
  } catch (_) {
    /* keep the page's origin */
  }
  const pick = (key) => {
    const value = given[key] != null ? given[key] : data[key];
    return typeof value === "string" ? value.trim() : value;
  };
  const open = pick("open");
  const server = String(pick("server") || origin).replace(/\/+$/, "");
  const widgetUrl = scriptSrc || `${server}/widget/dcs-widget.js`;
  return {
    server,
    // where the call code (dcs-call-HASH.js) is loaded from: next to this script
    callUrl: new URL(CHUNKS.call, widgetUrl).href,
    // the co-browse code (dcs-cobrowse-HASH.js), also next to this script
    cobrowseUrl: new URL(CHUNKS.cobrowse, widgetUrl).href,
    cobrowse: cobrowsePolicy(given.cobrowse, data.cobrowseAllowInputs, data.cobrowseCanvas),
    // the widget's chunks of texts in other languages than English (i18n/)
    localeUrls: Object.fromEntries(
      Object.entries(CHUNKS)
        .filter(([key]) => key.startsWith("locale-"))
        .map(([key, name]) => [key.slice(7), new URL(name, widgetUrl).href]),
    ),
    // data-locale="es" (or DCSConfig.locale); empty: the browser's languages decide
    locale: pick("locale") || "",
    tokenUrl: pick("tokenUrl") || "",
    // empty: the locale's own word for "Help"
    title: pick("title") || "",
    open: open === true || open === "true",
    // branding (ui/theme.js): data-brand-color, data-logo, data-position, data-launcher-text
    theme: {
      brandColor: pick("brandColor") || "",
      logo: pick("logo") || "",
      // "left" | "right"; empty: right, or left for a right-to-left language
      position: ["left", "right"].includes(pick("position")) ? pick("position") : "",
      launcherText: pick("launcherText") || "",
    },
  };
}
