// The call's UI, the same for the widget (inside its shadow root) and the console: the
// incoming-call prompt (role=alertdialog), the call bar (state, duration, Mute, Camera,
// Hang up), error messages, and the media elements. Stable data-part hooks:
//   call-start video-start (only with `withStart`) call-prompt call-accept call-decline
//   call-bar call-state[data-state] call-duration call-mute call-camera call-hangup
//   call-error call-sound remote-video local-video remote-audio
// Text always goes in as text: nothing here parses HTML. Texts come from `t` (the widget's
// translator) or, in the console, English (texts.js). Mute and the camera say what a
// press does ("Unmute" while muted), so they carry no aria-pressed; data-on holds the state.
import CALL_TEXTS, { english } from "./texts.js";

function el(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value == null || value === false) continue;
    if (key === "part") node.setAttribute("data-part", value);
    else if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key === "hidden") node.hidden = true;
    else if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
    else if (key === "muted" || key === "autoplay" || key === "playsInline") {
      node[key] = true;
      node.setAttribute(key.toLowerCase(), "");
    }
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children) if (child != null) node.append(typeof child === "string" ? document.createTextNode(child) : child);
  return node;
}

function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

function show(node, visible) {
  if (node.hidden === !!visible) node.hidden = !visible;
}

let uid = 0;

export function formatDuration(ms) {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

// controller.js's end reasons, in the widget's language
const ENDED_KEYS = { declined: "call_ended_declined", "session ended": "call_ended_session", "agent left": "call_ended_agent_left", failed: "call_failed" };

export function stateText(snap, t = english) {
  switch (snap.state) {
    case "ringing":
      return snap.incoming ? t("call_ringing_in", { name: snap.caller }) : t("call_calling");
    case "connecting":
      return t("call_connecting");
    case "connected":
      return snap.video ? t("call_on_video") : t("call_on");
    case "reconnecting":
      return t("call_reconnecting");
    case "ended":
      return (t !== english && ENDED_KEYS[snap.reason] && t(ENDED_KEYS[snap.reason])) || snap.endedText || t("call_ended");
    default:
      return "";
  }
}

// controller: see controller.js. withStart: show Call/Video buttons (canStart() says when).
// otherLabel: how to name the other side ("The agent", "The customer").
export function createCallUi({ controller, withStart = false, canStart = () => true, otherLabel = "The other side", className = "dcs-call", t: given = null }) {
  const t = given ? given.with(CALL_TEXTS) : english;
  uid += 1;
  const ids = { title: `dcs-call-title-${uid}`, desc: `dcs-call-desc-${uid}` };
  const c = (name) => `${className}__${name}`;

  const callStart = el("button", { type: "button", part: "call-start", class: `${c("btn")} ${c("start")}`, onclick: () => controller.start({ video: false }) }, t("call"));
  const videoStart = el("button", { type: "button", part: "video-start", class: `${c("btn")} ${c("start")}`, onclick: () => controller.start({ video: true }) }, t("video"));
  const actions = el("div", { class: c("actions"), role: "group", "aria-label": t("call_start_group"), hidden: true }, callStart, videoStart);

  const promptTitle = el("p", { id: ids.title, class: c("prompt-title") });
  const promptDesc = el("p", { id: ids.desc, class: c("prompt-desc") });
  const accept = el("button", { type: "button", part: "call-accept", class: `${c("btn")} ${c("accept")}`, onclick: () => controller.accept() }, t("call_accept"));
  const decline = el("button", { type: "button", part: "call-decline", class: `${c("btn")} ${c("decline")}`, onclick: () => controller.decline() }, t("call_decline"));
  const prompt = el(
    "div",
    { part: "call-prompt", class: c("prompt"), role: "alertdialog", "aria-labelledby": ids.title, "aria-describedby": ids.desc, tabindex: "-1", hidden: true },
    promptTitle,
    promptDesc,
    el("div", { class: c("prompt-actions") }, accept, decline),
  );
  prompt.addEventListener("keydown", (e) => {
    if (e.key === "Escape") {
      e.stopPropagation();
      controller.decline();
    }
  });

  const state = el("span", { part: "call-state", class: c("state"), role: "status", "aria-live": "polite", "data-state": "idle" });
  const duration = el("span", { part: "call-duration", class: c("duration"), role: "timer", "aria-label": t("call_duration") });
  const mute = el("button", { type: "button", part: "call-mute", class: `${c("btn")} ${c("toggle")}`, "data-on": "false", onclick: () => controller.toggleMute() }, t("call_mute"));
  const camera = el("button", { type: "button", part: "call-camera", class: `${c("btn")} ${c("toggle")}`, "data-on": "false", onclick: () => controller.toggleCamera() }, t("call_camera_on"));
  const hangup = el("button", { type: "button", part: "call-hangup", class: `${c("btn")} ${c("hangup")}`, onclick: () => controller.hangup() }, t("call_hangup"));
  const otherMuted = el("span", { class: c("note"), hidden: true });
  const bar = el(
    "div",
    { part: "call-bar", class: c("bar"), role: "group", "aria-label": t("call_bar"), hidden: true },
    el("div", { class: c("status") }, state, duration, otherMuted),
    el("div", { class: c("controls") }, mute, camera, hangup),
  );

  const error = el("p", { part: "call-error", class: c("error"), role: "alert", hidden: true });
  const remoteVideo = el("video", { part: "remote-video", class: c("remote-video"), autoplay: true, playsInline: true, muted: true, "aria-label": t("call_other_video", { name: otherLabel }), hidden: true });
  const localVideo = el("video", { part: "local-video", class: c("local-video"), autoplay: true, playsInline: true, muted: true, "aria-label": t("call_your_camera"), hidden: true });
  const remoteAudio = el("audio", { part: "remote-audio", autoplay: true });
  const sound = el("button", { type: "button", part: "call-sound", class: `${c("btn")} ${c("sound")}`, hidden: true, onclick: () => playAudio(true) }, t("call_sound"));
  const stage = el("div", { class: c("media"), hidden: true }, remoteVideo, localVideo);
  const root = el("div", { class: className, "data-call-state": "idle" }, withStart ? actions : null, prompt, bar, sound, error, stage, remoteAudio);

  let shown = { audio: null, video: null, local: null };
  let timer = 0;
  let last = controller.snapshot();

  function playAudio(user) {
    const p = remoteAudio.play();
    if (p && typeof p.then === "function") {
      p.then(
        () => show(sound, false),
        () => {
          if (remoteAudio.srcObject) show(sound, true); // autoplay refused: a click plays it
          if (user) show(sound, true);
        },
      );
    }
  }

  function attach(node, track, key) {
    if (shown[key] === track) return;
    shown[key] = track;
    node.srcObject = track ? new MediaStream([track]) : null;
    if (track && node !== remoteAudio) node.play().catch(() => {});
    if (track && node === remoteAudio) playAudio(false);
  }

  function renderDuration() {
    const s = last;
    const running = s.connectedBase && (s.state === "connected" || s.state === "reconnecting");
    setText(duration, running ? formatDuration(Date.now() - s.connectedBase) : "");
    show(duration, !!running);
  }

  function render(s = controller.snapshot()) {
    last = s;
    root.setAttribute("data-call-state", s.state);
    show(actions, withStart && !s.active && canStart());
    callStart.disabled = videoStart.disabled = s.busy;

    show(prompt, s.incoming);
    setText(promptTitle, s.video ? t("call_incoming_video") : t("call_incoming"));
    setText(promptDesc, t("call_is_calling", { name: s.caller }));
    accept.disabled = decline.disabled = s.busy;

    const inBar = s.state !== "idle" && !s.incoming;
    show(bar, inBar);
    state.setAttribute("data-state", s.state);
    setText(state, stateText(s, t));
    const joined = s.joined && s.state !== "ended";
    show(mute, joined && s.hasAudio);
    mute.setAttribute("data-on", s.muted ? "true" : "false");
    setText(mute, s.muted ? t("call_unmute") : t("call_mute"));
    show(camera, joined);
    camera.setAttribute("data-on", s.camera ? "true" : "false");
    setText(camera, s.camera ? t("call_camera_off") : t("call_camera_on"));
    camera.disabled = s.busy;
    show(hangup, s.state !== "ended" && s.state !== "idle");
    setText(hangup, s.outgoing ? t("call_cancel") : t("call_hangup"));
    const om = joined ? s.otherMedia : null;
    const note = om && om.audio === false ? t("call_other_muted", { name: otherLabel }) : "";
    setText(otherMuted, note);
    show(otherMuted, !!note);

    setText(error, s.error || "");
    show(error, !!s.error);

    attach(remoteAudio, joined ? s.remoteAudio : null, "audio");
    attach(remoteVideo, joined ? s.remoteVideo : null, "video");
    attach(localVideo, joined ? s.localVideo : null, "local");
    show(remoteVideo, joined && s.remoteVideoLive);
    show(localVideo, joined && !!s.localVideo);
    show(stage, joined && (s.remoteVideoLive || !!s.localVideo));
    if (!joined) show(sound, false);

    renderDuration();
    const ticking = s.state === "connected" || s.state === "reconnecting";
    if (ticking && !timer) timer = setInterval(renderDuration, 1000);
    else if (!ticking && timer) {
      clearInterval(timer);
      timer = 0;
    }
  }

  const offs = [controller.on("change", render), controller.on("tracks", () => render())];
  render();

  return {
    el: root,
    render: () => render(),
    focusPrompt() {
      if (!prompt.hidden) accept.focus();
    },
    destroy() {
      offs.forEach((off) => off());
      clearInterval(timer);
      for (const node of [remoteAudio, remoteVideo, localVideo]) node.srcObject = null;
      root.remove();
    },
  };
}
