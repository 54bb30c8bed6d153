// The widget's home in the page: <div id="dcs-widget-root"> with an open shadow root,
// styled from JS (a constructed stylesheet where supported: no inline <style> needed).
import { CSS } from "./styles.js";

export function mount(doc = document) {
  const host = doc.createElement("div");
  host.id = "dcs-widget-root";
  const shadow = host.attachShadow({ mode: "open" });
  let sheet = null;
  try {
    sheet = new CSSStyleSheet();
    sheet.replaceSync(CSS);
    shadow.adoptedStyleSheets = [sheet];
  } catch (_) {
    const style = doc.createElement("style");
    style.textContent = CSS;
    shadow.append(style);
  }
  const root = doc.createElement("div");
  root.className = "root";
  shadow.append(root);
  doc.body.append(host);
  return { host, shadow, root, unmount: () => host.remove() };
}
