// The mini call bar: while a call is on and the chat panel is closed, a small bar above
// the launcher keeps the call in reach: what is happening, the duration, Mute/Unmute,
// Hang up, and Open chat. It sits after the panel in the shadow root, so CSS alone hides
// it while the panel is open (the full call bar is in the panel then).
import { formatDuration } from "./ui.js";

const ON = new Set(["connecting", "connected", "reconnecting"]);

export const MINI_CSS = `
.dcs-call-mini{position:fixed;right:20px;bottom:92px;z-index:2147483001;display:flex;align-items:center;gap:8px;flex-wrap:wrap;max-width:calc(100vw - 40px);padding:8px 10px;border-radius:14px;background:#1d2433;color:#fff;font-size:14px;line-height:1.3;box-shadow:0 6px 24px rgba(16,24,40,.35)}
.root[data-position=left] .dcs-call-mini{right:auto;left:20px}
.panel:not([hidden])~.dcs-call-mini,.dcs-call-mini[hidden]{display:none!important}
.dcs-call-mini__state{font-weight:600;display:inline-flex;align-items:center;gap:6px}
.dcs-call-mini__state::before{content:"";width:8px;height:8px;border-radius:50%;background:#53d18f}
.dcs-call-mini__time{font-variant-numeric:tabular-nums;color:#d5dbe6}
.dcs-call-mini button{font:inherit;font-size:13px;font-weight:600;border-radius:8px;padding:5px 10px;border:1.5px solid #fff;background:#fff;color:#1d2433;cursor:pointer}
.dcs-call-mini button[data-on=true]{background:#ffcf5c;border-color:#ffcf5c}
.dcs-call-mini .dcs-call-mini__hangup{background:#c4271b;border-color:#c4271b;color:#fff}
.dcs-call-mini button:focus-visible{outline:3px solid #fff;outline-offset:2px}
`;

export function createMiniCallBar({ controller, layer, t, openPanel }) {
  const mk = (tag, attrs, text) => {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    if (text) node.textContent = text;
    return node;
  };
  const state = mk("span", { class: "dcs-call-mini__state", "data-part": "call-mini-state" });
  const time = mk("span", { class: "dcs-call-mini__time", "data-part": "call-mini-duration", role: "timer", "aria-label": t("call_duration") });
  const mute = mk("button", { type: "button", "data-part": "call-mini-mute", "data-on": "false" }, t("call_mute"));
  const hangup = mk("button", { type: "button", class: "dcs-call-mini__hangup", "data-part": "call-mini-hangup" }, t("call_hangup"));
  const open = mk("button", { type: "button", "data-part": "call-mini-open" }, t("call_open_chat"));
  const bar = mk("div", { class: "dcs-call-mini", "data-part": "call-mini", role: "group", "aria-label": t("call_mini") });
  bar.hidden = true;
  bar.append(state, time, mute, hangup, open);
  layer.append(bar);
  mute.addEventListener("click", () => controller.toggleMute());
  hangup.addEventListener("click", () => controller.hangup());
  open.addEventListener("click", () => openPanel());
  let timer = 0;
  let last = controller.snapshot();

  function tick() {
    const s = last;
    const text = s.connectedBase && s.state !== "connecting" ? formatDuration(Date.now() - s.connectedBase) : "";
    if (time.textContent !== text) time.textContent = text;
  }

  function render(s = controller.snapshot()) {
    last = s;
    const on = ON.has(s.state) || (s.state === "ringing" && s.outgoing);
    bar.hidden = !on;
    const label = s.state === "connected" ? (s.video ? t("call_on_video") : t("call_on")) : s.state === "ringing" ? t("call_calling") : s.state === "reconnecting" ? t("call_reconnecting") : t("call_connecting");
    if (state.textContent !== label) state.textContent = label;
    mute.hidden = !(s.joined && s.hasAudio);
    mute.setAttribute("data-on", s.muted ? "true" : "false");
    mute.textContent = s.muted ? t("call_unmute") : t("call_mute");
    hangup.textContent = s.outgoing ? t("call_cancel") : t("call_hangup");
    tick();
    if (on && !timer) timer = setInterval(tick, 1000);
    else if (!on && timer) {
      clearInterval(timer);
      timer = 0;
    }
  }

  const offs = [controller.on("change", render)];
  render();
  return {
    destroy() {
      offs.forEach((off) => off());
      clearInterval(timer);
      bar.remove();
    },
  };
}
