// The DCS customer widget: one script tag, one global (window.DCS), a shadow-root UI.
// Loading the script a second time does nothing.
import { readConfig } from "./config.js";
import { createApp } from "./app.js";
import { createApi } from "./api.js";

(function boot() {
  if (window.DCS && window.DCS.__dcs) return;
  const config = readConfig(); // now: document.currentScript is only set while this runs
  if (!config.tokenUrl) {
    console.error("[DCS] the widget needs data-token-url on its script tag (or window.DCSConfig.tokenUrl).");
    return;
  }
  const app = createApp(config);
  window.DCS = createApi(app);
  if (document.body) app.start();
  else document.addEventListener("DOMContentLoaded", () => app.start(), { once: true });
})();
