// The widget's configuration: window.DCSConfig (set before the script) wins over the
// script tag's data-attributes. Must run synchronously while the script executes, because
// document.currentScript is only set then.
export function readConfig(win = window, doc = document) {
  const script = doc.currentScript || doc.querySelector("script[data-token-url]");
  const data = (script && script.dataset) || {};
  const given = (win.DCSConfig && typeof win.DCSConfig === "object" && win.DCSConfig) || {};
  let origin = win.location.origin;
  try {
    if (script && script.src) origin = new URL(script.src, win.location.href).origin;
  } catch (_) {
    /* keep the page's origin */
  }
  const pick = (key) => {
    const value = given[key] != null ? given[key] : data[key];
    return typeof value === "string" ? value.trim() : value;
  };
  const open = pick("open");
  return {
    server: String(pick("server") || origin).replace(/\/+$/, ""),
    tokenUrl: pick("tokenUrl") || "",
    title: pick("title") || "Help",
    open: open === true || open === "true",
  };
}
