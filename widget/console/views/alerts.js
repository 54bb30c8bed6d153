// New-chat alerts in the top bar: a customer joining the agent's queue changes the tab's
// title (the count waiting), shows a desktop notification once the agent has turned them
// on (the browser asks for permission on that click), and plays a short tone if the
// agent turned the sound on (off by default). The choices are kept in localStorage. Each
// button says the state it is in ("Sound: off"), so none carries aria-pressed.
import { h, setAttr, setText } from "../dom.js";
import { customerLabel } from "../format.js";

const KEY = "dcs.console.alerts";

// "(2) 3 waiting · DCS agent console": unread replies, then customers waiting
export function titleText(base, unread, waiting) {
  return [unread ? `(${unread})` : "", waiting ? `${waiting} waiting ·` : "", base].filter(Boolean).join(" ");
}

function load() {
  try {
    const saved = JSON.parse(localStorage.getItem(KEY) || "{}");
    return { desktop: saved.desktop === true, sound: saved.sound === true };
  } catch {
    return { desktop: false, sound: false };
  }
}

function save(prefs) {
  try {
    localStorage.setItem(KEY, JSON.stringify(prefs));
  } catch {
    // not remembered then
  }
}

const canNotify = () => typeof Notification === "function";

export function createAlertsView({ store }) {
  const prefs = load();
  const hook = { sounds: 0, notifications: 0 }; // a debugging hook (tests read it)
  window.__dcsAlerts = hook;
  let audio = null;
  const desktop = h("button", { type: "button", part: "alerts-desktop", class: "btn btn--quiet btn--small" });
  const sound = h("button", { type: "button", part: "alerts-sound", class: "btn btn--quiet btn--small" });
  const el = h("div", { class: "topbar__alerts", role: "group", "aria-label": "New chat alerts" }, desktop, sound);

  function permission() {
    return canNotify() ? Notification.permission : "unsupported";
  }

  function render() {
    const state = permission();
    const on = prefs.desktop && state === "granted";
    setText(desktop, state === "denied" ? "Desktop alerts: blocked" : state === "unsupported" ? "Desktop alerts: unavailable" : on ? "Desktop alerts: on" : "Desktop alerts: off");
    setAttr(desktop, "title", state === "denied" ? "The browser blocks notifications for this site; allow them in its site settings." : on ? "Turn desktop notifications off" : "Show a desktop notification when a customer starts waiting");
    desktop.disabled = state === "unsupported";
    setAttr(desktop, "data-on", on ? "true" : "false");
    setText(sound, prefs.sound ? "Sound: on" : "Sound: off");
    setAttr(sound, "title", prefs.sound ? "Turn the new-chat sound off" : "Play a sound when a customer starts waiting");
    setAttr(sound, "data-on", prefs.sound ? "true" : "false");
  }

  desktop.addEventListener("click", async () => {
    if (prefs.desktop && permission() === "granted") prefs.desktop = false;
    else if (canNotify()) prefs.desktop = (await Notification.requestPermission()) === "granted";
    save(prefs);
    render();
  });
  sound.addEventListener("click", () => {
    prefs.sound = !prefs.sound;
    save(prefs);
    if (prefs.sound) beep(); // a sample, and the click lets the page play audio later
    render();
  });

  function beep() {
    try {
      audio = audio || new AudioContext();
      const tone = audio.createOscillator();
      const gain = audio.createGain();
      tone.frequency.value = 880;
      gain.gain.setValueAtTime(0.15, audio.currentTime);
      gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.25);
      tone.connect(gain).connect(audio.destination);
      tone.start();
      tone.stop(audio.currentTime + 0.25);
      hook.sounds += 1;
    } catch {
      // no Web Audio: the title and the notification still say it
    }
  }

  function announce(item) {
    if (prefs.sound) beep();
    if (!prefs.desktop || permission() !== "granted") return;
    try {
      const note = new Notification(`New chat: ${customerLabel(item.customer)}`, {
        body: item.first_message || item.reason || `Waiting in ${item.queue || "the queue"}`,
        tag: `dcs-${item.session_id}`,
      });
      note.onclick = () => window.focus();
      hook.notifications += 1;
    } catch {
      // a browser that only notifies from a service worker: the title still says it
    }
  }

  let known = null; // the queue's ids at the last change; null until the first snapshot
  const offs = [
    store.on("queue", () => {
      const ids = new Set(store.queue.map((item) => item.session_id));
      if (known) for (const item of store.queue) if (!known.has(item.session_id)) announce(item);
      known = ids;
    }),
    store.on("connection", (state) => {
      if (state !== "connected") known = null; // a reconnect's snapshot is not news
    }),
  ];
  render();

  return {
    el,
    destroy() {
      offs.forEach((off) => off());
      if (audio) audio.close();
      el.remove();
    },
  };
}
