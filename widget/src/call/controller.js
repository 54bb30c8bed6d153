// The call state machine of one participant (customer or agent) in one session, driven by
// the server's call.state pushes and acks, the user's actions and the WebRTC link.
//
//   idle → ringing (incoming: Accept/Decline; outgoing: "Calling…") → connecting →
//   connected ⇄ reconnecting → ended (reason) → idle
//
// The server's call.state is the truth; this side adds what only it knows: its own
// connection ("reconnecting" while its link is down), mute and camera. It reports its
// media with call.media (connected/reconnecting, audio = sending sound, video = camera).
// A page that finds a call under way (session.start's or the handoff's `call`) rejoins it
// with a fresh connection and a new pc_id, without a prompt.
//
// Set-up time (docs/architecture.md, "Call set-up time"): while a call rings, both sides
// fetch the ICE servers, and the caller (whose microphone is already open) makes its offer
// and gathers candidates, sent the moment the call is accepted. The callee asks for its
// microphone only on Accept; when the browser will not prompt for it (the permission is
// already granted) it answers at once and the connection comes up while the microphone
// opens. The steps are marked with performance.mark("dcs.call.*") for the bench.
//
// A call that cannot connect fails with a message on both sides, and the chat goes on:
// at once when no path can ever be made (a relay-only policy and a TURN server that
// refuses the credential or cannot be reached: the gathering of one side ends with no
// candidate, and its end-of-candidates tells the other side), else when it has not
// connected CONNECT_TIMEOUT_MS after the answer (a TURN server that does not answer at
// all takes Chromium longer than that to give up on; tests shorten the timeout with
// window.__dcsCallTimeoutMs, read when the controller is made). The failing side hangs up
// only once its last signal has reached the server, so that the other side hears of the
// empty gathering first; a side whose unconnected call the other side hung up after
// trying for a while shows the failure too (both time out together).
//
// UI hooks: on("change", snapshot) after every change, on("ring", snapshot) when a call
// rings for this side, on("tracks") when remote tracks change.
import { Event } from "../protocol.js";
import { createEmitter } from "../emitter.js";
import { createLink } from "./peer.js";
import { rtcConfiguration } from "../rtcconfig.js";
import { createMedia, mediaErrorText } from "./media.js";
import { english } from "./texts.js";

const CONNECT_TIMEOUT_MS = 30000;
const STUCK_MS = 5000; // hung up unconnected after trying this long (or half the timeout): it failed
const ENDED_SHOWN_MS = 8000;
const RANK = { ringing: 0, connecting: 1, connected: 2, reconnecting: 2, ended: 3 };
const SAVED_PREFIX = "dcs.call.";
const CONFIG_FRESH_MS = 5 * 60 * 1000; // ICE servers fetched while ringing are reused this long (at most half their TTL)

function mark(name) {
  try {
    performance.mark(`dcs.call.${name}`);
  } catch (_) {
    /* no User Timing */
  }
}

// whether the browser will open the microphone without a prompt (false when it cannot say)
async function microphoneGranted() {
  try {
    const status = await navigator.permissions.query({ name: "microphone" });
    return status.state === "granted";
  } catch (_) {
    return false;
  }
}

// how long an answered call may take to connect
function connectTimeoutMs() {
  const ms = typeof window !== "undefined" ? Number(window.__dcsCallTimeoutMs) : NaN;
  return ms > 0 ? ms : CONNECT_TIMEOUT_MS;
}

// what the other side's signals told of its current connection's candidates
function remoteCandidates(pcId = null) {
  return { pcId, count: 0, done: false };
}

function ackError(ack, fallback) {
  return (ack && ack.error && ack.error.message) || fallback;
}

function savedStore() {
  try {
    return window.sessionStorage;
  } catch (_) {
    return null;
  }
}

export function endedText(reason) {
  if (reason === "declined") return "Call declined";
  if (reason === "session ended") return "Call ended with the conversation";
  if (reason === "agent left") return "Call ended: the agent had to leave";
  if (reason === "failed") return "Call failed";
  return "Call ended";
}

// text: the widget's translator for the call's texts (call/texts.js keys); English without
export function createCallController({ role, sessionId, request, log = () => {}, text = english }) {
  const events = createEmitter();
  const media = createMedia();
  const storage = savedStore();
  const savedKey = SAVED_PREFIX + sessionId;
  let call = null; // the latest Call this side takes part in, is rung with, or just ended
  let incoming = false; // rung by the other side, not answered yet
  let joined = false; // this side takes part: invited, accepted or rejoined
  let ready = false; // media and ICE servers ready, link made
  let inviting = false;
  let accepting = false; // our call.answer is on its way: its push may come before its ack
  let busy = false;
  let link = null;
  let rtcConfig = {};
  let configLoad = null; // {at, done: Promise<string>}: the rtc.config request ("" or an error)
  let configFreshMs = CONFIG_FRESH_MS;
  let granted = null; // Promise<boolean>: the microphone permission, asked when a call rings
  let micOpening = false; // the microphone is being opened
  let linkState = "new"; // new | connected | reconnecting
  let everConnected = false;
  let reportedKey = "";
  let error = "";
  let queued = []; // signals that came before the link was ready
  let connectedBase = 0; // Date.now() at the call's connected_at, by this clock
  let endedTimer = 0;
  let connectTimer = 0;
  const timeoutMs = connectTimeoutMs();
  let connectingSince = 0; // when this side began to connect the answered call (0: not trying)
  let failed = false; // this call could not connect (the message says why)
  let lastSignal = Promise.resolve(); // the ack of our latest rtc.signal
  let remote = remoteCandidates();
  let destroyed = false;

  const debug = {
    role,
    sessionId,
    get pc() {
      return link ? link.pc : null;
    },
    get pcId() {
      return link ? link.pcId : null;
    },
    stats() {
      const pc = link && link.pc;
      return pc ? pc.getStats() : Promise.resolve(new Map());
    },
    get state() {
      return snapshot().state;
    },
  };

  function emit(name = "change") {
    if (!destroyed) events.emit(name, snapshot());
  }

  function say(text) {
    error = text || "";
  }

  function save() {
    if (!storage || !call || !joined) return;
    try {
      storage.setItem(savedKey, JSON.stringify({ call_id: call.call_id, muted: media.muted, camera: media.camera }));
    } catch (_) {
      /* not remembered across reloads */
    }
  }

  function saved(callId) {
    try {
      const value = storage && JSON.parse(storage.getItem(savedKey) || "null");
      return value && value.call_id === callId ? value : {};
    } catch (_) {
      return {};
    }
  }

  function forget() {
    try {
      if (storage) storage.removeItem(savedKey);
    } catch (_) {
      /* nothing stored */
    }
  }

  function state() {
    if (!call) return "idle";
    if (call.state === "ringing" || call.state === "ended") return call.state;
    if (joined && (linkState === "reconnecting" || (everConnected && linkState !== "connected"))) return "reconnecting";
    if (call.state === "connected" && joined && linkState !== "connected") return "connecting";
    return call.state;
  }

  function snapshot() {
    const s = state();
    const remote = link ? link.remote() : { audio: null, video: null, videoLive: false };
    const other = call && call.inviter && call.inviter.role !== role ? call.inviter : null;
    return {
      role,
      sessionId,
      state: s,
      active: inviting || (s !== "idle" && s !== "ended"),
      incoming: incoming && s === "ringing",
      outgoing: !incoming && s === "ringing",
      joined,
      busy,
      video: !!(call && call.video),
      callId: call ? call.call_id : null,
      caller: other ? other.name || (other.role === "agent" ? text("call_an_agent") : text("call_the_customer")) : "",
      reason: call && call.state === "ended" ? (failed ? "failed" : call.reason || "") : "",
      endedText: call && call.state === "ended" ? endedText(failed ? "failed" : call.reason) : "",
      connectedBase: connectedBase || 0,
      muted: media.muted,
      camera: media.camera,
      hasAudio: !!media.audio,
      localVideo: media.video,
      remoteAudio: remote.audio,
      remoteVideo: remote.video,
      remoteVideoLive: remote.videoLive,
      otherMedia: call && call.media ? call.media[role === "agent" ? "customer" : "agent"] || null : null,
      error,
    };
  }

  function report() {
    if (!call || !joined || !ready || call.state === "ringing" || call.state === "ended") return;
    const payload = {
      session_id: sessionId,
      call_id: call.call_id,
      state: linkState === "connected" ? "connected" : linkState === "reconnecting" ? "reconnecting" : "connecting",
      audio: (!!media.audio || micOpening) && !media.muted, // a microphone still opening counts
      video: media.camera,
    };
    const key = JSON.stringify(payload);
    if (key === reportedKey) return;
    reportedKey = key;
    request(Event.CALL_MEDIA, payload).then((ack) => {
      if (!ack.ok && reportedKey === key && ack.error && ack.error.code !== "not_found") reportedKey = ""; // try again next time
    });
  }

  // the ICE servers: "" once rtcConfig holds them, or what went wrong
  async function fetchConfig() {
    const ack = await request(Event.RTC_CONFIG, { session_id: sessionId });
    if (!ack.ok) return ackError(ack, text("call_not_set_up"));
    rtcConfig = rtcConfiguration(ack);
    const ttl = Number(ack.ttl_s);
    configFreshMs = Number.isFinite(ttl) && ttl > 0 ? Math.min(CONFIG_FRESH_MS, (ttl * 1000) / 2) : CONFIG_FRESH_MS;
    mark("config");
    return "";
  }

  // the ICE servers, fetched once per call (early, while it rings) unless too old; false
  // (and a message, unless quiet) on failure
  async function loadConfig(quiet = false) {
    if (!configLoad || Date.now() - configLoad.at > configFreshMs) {
      const load = { at: Date.now(), done: fetchConfig() };
      configLoad = load;
      load.done.then((problem) => {
        if (problem && configLoad === load) configLoad = null; // ask again next time
      });
    }
    const problem = await configLoad.done;
    if (problem && !quiet) say(problem);
    return !problem;
  }

  // a call rings for this side: get ready for Accept without asking for anything: the ICE
  // servers, and the connection that will answer (gathering ahead when the microphone is
  // allowed already: before that, Chromium would hide this device's addresses)
  function warmUp() {
    const c = call;
    granted = microphoneGranted();
    Promise.all([loadConfig(true), granted])
      .then(([ok, allowed]) => {
        if (!ok || destroyed || link || call !== c || !incoming || c.state !== "ringing") return;
        makeLink().warm({ pool: allowed });
      })
      .catch(() => {});
  }

  // the link for this call (kept if one was made while it rang)
  function makeLink() {
    if (link) {
      link.setConfig(rtcConfig);
      link.setTracks({ audio: media.audio, video: media.video });
      return link;
    }
    link = createLink({
      role,
      log,
      send: (signal) => {
        if (signal.description) mark(`send-${signal.description.type}`);
        if (call && call.state !== "ended") {
          lastSignal = request(Event.RTC_SIGNAL, { session_id: sessionId, call_id: call.call_id, ...signal });
        }
      },
      onConnection: (value) => {
        if (value === linkState) return;
        linkState = value;
        if (value === "connected") {
          everConnected = true;
          connectingSince = 0;
          clearTimeout(connectTimer);
        }
        report();
        emit();
      },
      onTrack: () => emit("tracks"),
      onRemote: () => emit(),
      onNoPath: () => checkPath(),
      videoCall: () => {
        const other = call && call.media ? call.media[role === "agent" ? "customer" : "agent"] : null;
        return !!call && (!!call.video || !!(other && other.video));
      },
    });
    link.setConfig(rtcConfig);
    link.setTracks({ audio: media.audio, video: media.video });
    return link;
  }

  // the link is ready to connect this call
  function linkReady() {
    ready = true;
    if (typeof window !== "undefined") window.__dcsCall = debug; // a debugging hook (docs/protocol.md)
  }

  // the microphone (camera if asked): "" or what went wrong (a message shown)
  async function openMedia(camera) {
    micOpening = true;
    try {
      const { cameraError } = await media.open({ camera });
      mark("media");
      if (cameraError) say(mediaErrorText(cameraError, "camera", text));
      return "";
    } catch (err) {
      say(mediaErrorText(err, "microphone", text));
      media.close();
      return "microphone";
    } finally {
      micOpening = false;
    }
  }

  // the microphone (camera if asked) and the ICE servers at once, then the link; false (and
  // a message) on failure
  async function prepare(camera) {
    const [mediaProblem, configOk] = await Promise.all([openMedia(camera), loadConfig()]);
    if (destroyed || mediaProblem || !configOk) {
      media.close();
      return false;
    }
    makeLink();
    linkReady();
    return true;
  }

  // the ICE servers and the link now; the microphone (camera if asked) is opened by the
  // caller, and the link negotiates as if it were there. False (and a message) on failure.
  async function prepareExpecting(camera) {
    if (destroyed || !(await loadConfig())) return false;
    makeLink();
    link.expect(camera ? ["audio", "video"] : ["audio"]);
    linkReady();
    return true;
  }

  // the microphone opened (or not) after the link was made: hand its tracks over; false
  // when there is no microphone (the message is shown)
  async function mediaArrived(opening) {
    const problem = await opening;
    if (destroyed || !link) {
      if (!problem) media.close();
      return !problem;
    }
    if (problem) return false;
    link.setTracks({ audio: media.audio, video: media.video });
    save();
    if (linkState === "connected") report(); // else the report on connecting says it
    emit();
    return true;
  }

  function flushQueued() {
    const signals = queued;
    queued = [];
    for (const s of signals) link.handle(s);
  }

  function amInviter() {
    return !!(call && call.inviter && call.inviter.role === role);
  }

  // the caller makes its first offer while the call rings, and sends it once accepted
  function maybeOffer() {
    if (!joined || !ready || !call || !amInviter() || call.state === "ended") return;
    if (call.state === "ringing") {
      if (!link.active) link.startOver({ hold: true });
      return;
    }
    if (link.holding) {
      mark("accepted");
      link.release();
      armConnectTimer();
      checkPath(); // it may have gathered nothing while the call rang
      return;
    }
    if (link.active) return;
    link.startOver();
    armConnectTimer();
  }

  function armConnectTimer() {
    clearTimeout(connectTimer);
    connectingSince = Date.now();
    connectTimer = setTimeout(() => {
      if (!call || call.state === "ended" || everConnected) return;
      fail(failureText());
    }, timeoutMs);
  }

  // why this call cannot connect, as far as this side can tell: the relay when, with a
  // relay-only policy (or TURN errors), either side has no candidate
  function failureText() {
    const g = link ? link.gathering : null;
    const relayed = rtcConfig.iceTransportPolicy === "relay" || (g && g.errors.length > 0);
    const none = (g && g.count === 0) || (remote.done && remote.count === 0);
    return relayed && none ? text("call_no_relay") : text("call_no_connection");
  }

  // an answered call that has never connected, and either side's gathering ended with no
  // candidate: no path can ever be made, so fail now rather than at the timeout
  function checkPath() {
    if (failed || !call || !joined || !ready || everConnected || !link || link.holding) return;
    if (call.state === "ringing" || call.state === "ended") return;
    const g = link.gathering;
    const noneHere = !!g && g.complete && g.count === 0;
    if (!noneHere && !(remote.done && remote.count === 0)) return;
    log(noneHere ? "no local candidate: no path can be made" : "the other side has no candidate: no path can be made");
    fail(failureText());
  }

  // this call cannot connect: say why, and end it for both sides
  async function fail(text) {
    if (failed || !call || call.state === "ended") return;
    failed = true;
    clearTimeout(connectTimer);
    say(text);
    emit();
    await lastSignal; // our end-of-candidates reaches the other side before our hang-up does
    await hangup();
  }

  // the other side hung up our answered call that never connected, after trying long
  // enough to have timed out too (or given up): it failed here as well
  function endedUnconnected(c) {
    const other = role === "agent" ? "customer" : "agent";
    const tried = connectingSince ? Date.now() - connectingSince : 0;
    if (failed || everConnected || !joined || c.reason !== `hung up by ${other}`) return;
    if (tried < Math.min(STUCK_MS, timeoutMs / 2)) return;
    failed = true;
    say(failureText());
  }

  // what the other side's signal tells of its candidates (noted before the link takes the
  // signal: a hang-up right after it would close the link first)
  function noteRemote(s) {
    const pcId = s.pc_id || null;
    if (s.description) {
      if (pcId !== remote.pcId) remote = remoteCandidates(pcId);
      const sdp = s.description.sdp || "";
      remote.count += (sdp.match(/^a=candidate:/gm) || []).length;
      if (/^a=end-of-candidates/m.test(sdp)) remote.done = true;
    } else if (s.candidate && pcId === remote.pcId) {
      if (s.candidate.candidate) remote.count += 1;
      else remote.done = true;
    }
  }

  function teardown() {
    clearTimeout(connectTimer);
    connectingSince = 0;
    remote = remoteCandidates();
    lastSignal = Promise.resolve();
    if (link) link.close();
    link = null;
    media.close();
    ready = false;
    joined = false;
    incoming = false;
    linkState = "new";
    everConnected = false;
    reportedKey = "";
    queued = [];
    connectedBase = 0;
    forget();
  }

  function finish(ended) {
    call = ended;
    teardown();
    clearTimeout(endedTimer);
    endedTimer = setTimeout(() => {
      if (call && call.state === "ended") {
        call = null;
        emit();
      }
    }, ENDED_SHOWN_MS);
    emit();
  }

  // the reducer for every Call this side hears of
  function follow(c) {
    if (destroyed || !c || c.session_id !== sessionId) return;
    if (call && c.call_id === call.call_id) {
      if (call.state === "ended" || RANK[c.state] < RANK[call.state]) return; // over, or stale
    } else if (call && call.state !== "ended") {
      return; // another call while ours is under way
    } else {
      if (c.state !== "ringing") return; // not rung here (another tab of ours, or over)
      const mine = c.inviter && c.inviter.role === role;
      if (mine && !inviting) return; // rung from another tab of ours
      clearTimeout(endedTimer);
      call = c;
      incoming = !mine;
      joined = mine;
      failed = false;
      if (!mine) say("");
      emit();
      if (incoming) {
        mark("ring");
        warmUp();
        emit("ring");
      }
      return;
    }
    call = c;
    if (c.state === "ended") {
      endedUnconnected(c);
      finish(c);
      return;
    }
    if (incoming && !joined && !accepting && c.state !== "ringing") {
      // answered in another tab of ours
      teardown(); // what was made ahead while it rang
      call = null;
      incoming = false;
      emit();
      return;
    }
    if ((c.state === "connected" || c.state === "reconnecting") && Number.isFinite(c.duration_s)) {
      connectedBase = Date.now() - c.duration_s * 1000;
    }
    maybeOffer();
    emit();
  }

  async function start({ video = false } = {}) {
    if (destroyed || busy || inviting || (call && call.state !== "ended")) return false;
    clearTimeout(endedTimer);
    if (call && call.state === "ended") call = null;
    say("");
    failed = false;
    inviting = busy = true;
    emit();
    const ok = await prepare(video);
    if (!ok) {
      inviting = busy = false;
      emit();
      return false;
    }
    const ack = await request(Event.CALL_INVITE, { session_id: sessionId, video: !!video });
    inviting = busy = false;
    if (!ack.ok || !ack.call) {
      say(ackError(ack, text("call_not_started")));
      if (!call || call.state === "ringing") call = null;
      teardown();
      emit();
      return false;
    }
    joined = true;
    if (!call || call.call_id !== ack.call.call_id) {
      call = null;
      inviting = true;
      follow(ack.call); // the ringing push did not come first
      inviting = false;
    }
    save();
    maybeOffer();
    emit();
    return true;
  }

  async function answer(accept) {
    const c = call;
    const ack = await request(Event.CALL_ANSWER, { session_id: sessionId, call_id: c.call_id, accept });
    if (!ack.ok) return ack;
    if (ack.call && ack.call.state === "ended") follow(ack.call);
    return ack;
  }

  async function accept() {
    if (destroyed || busy || !call || !incoming || call.state !== "ringing") return;
    const c = call;
    mark("accept");
    say("");
    busy = true;
    emit();
    // when the browser will not prompt for the microphone, answer at once and let it open meanwhile
    const atOnce = await (granted || microphoneGranted());
    const opening = atOnce ? openMedia(!!c.video) : null;
    const ok = atOnce ? await prepareExpecting(!!c.video) : await prepare(!!c.video);
    const ringing = !!call && call.call_id === c.call_id && call.state === "ringing";
    if (!ringing || !ok) {
      busy = false;
      if (opening) await opening; // then teardown closes it
      if (ok || opening) teardown();
      if (ringing) await answer(false); // the call ends cleanly for both sides
      emit();
      return;
    }
    accepting = true;
    const ack = await request(Event.CALL_ANSWER, { session_id: sessionId, call_id: c.call_id, accept: true });
    mark("answered");
    accepting = false;
    if (!ack.ok) {
      busy = false;
      say(ackError(ack, text("call_not_answered")));
      if (opening) await opening;
      teardown();
      if (call && call.call_id === c.call_id && call.state === "ringing") call = null;
      emit();
      return;
    }
    incoming = false;
    joined = true;
    save();
    armConnectTimer();
    flushQueued();
    if (ack.call) follow(ack.call);
    checkPath(); // the caller's signals may have come before the answer's ack
    if (opening) {
      emit();
      if (!(await mediaArrived(opening)) && call && call.call_id === c.call_id && call.state !== "ended") {
        busy = false;
        await hangup(); // answered, but the microphone would not open: the message says why
        return;
      }
    }
    busy = false;
    emit();
  }

  async function decline() {
    if (!call || !incoming || call.state !== "ringing") return;
    busy = true;
    emit();
    const ack = await answer(false);
    busy = false;
    if (!ack.ok) say(ackError(ack, text("call_not_declined")));
    emit();
  }

  async function hangup() {
    if (!call || call.state === "ended") return;
    if (incoming && call.state === "ringing") {
      await decline();
      return;
    }
    const c = call;
    connectingSince = 0; // ended from here: not the other side's failure
    const ack = await request(Event.CALL_HANGUP, { session_id: sessionId, call_id: c.call_id });
    if (ack.ok && ack.call) follow(ack.call);
    else if (call && call.call_id === c.call_id && call.state !== "ended") {
      finish({ ...c, state: "ended", reason: "hung up" }); // end here whatever the server says
    }
  }

  // a page (re)started: this call is under way in the session, or none (null)
  async function resume(c) {
    if (destroyed) return;
    if (!c) {
      if (call && call.state !== "ended" && !inviting) finish({ ...call, state: "ended", reason: call.reason || "" });
      return;
    }
    if (c.session_id !== sessionId) return;
    if (call && call.call_id === c.call_id) {
      follow(c); // a reconnect of our socket: the link carries on
      return;
    }
    if (call && call.state !== "ended") return;
    if (c.state === "ringing") {
      const mine = c.inviter && c.inviter.role === role;
      if (!mine) {
        follow(c); // rings again after a reload: the prompt comes back
        return;
      }
    }
    // rejoin without a prompt: media, a fresh connection with a new pc_id, our own offer
    clearTimeout(endedTimer);
    call = c;
    joined = true;
    failed = false;
    incoming = false;
    linkState = c.state === "ringing" ? "new" : "reconnecting";
    everConnected = c.state !== "ringing";
    if (Number.isFinite(c.duration_s) && c.connected_at) connectedBase = Date.now() - c.duration_s * 1000;
    const keep = saved(c.call_id);
    media.setMuted(!!keep.muted);
    busy = true;
    emit();
    const camera = keep.camera === undefined ? !!c.video : !!keep.camera;
    // connect while the microphone opens (if it will not, the call ends either way)
    const opening = openMedia(camera);
    const ok = await prepareExpecting(camera);
    const gone = () => !call || call.call_id !== c.call_id || call.state === "ended";
    if (gone()) {
      busy = false;
      await opening; // then teardown closes it
      teardown();
      emit();
      return;
    }
    if (!ok) {
      busy = false;
      await opening;
      await endRejoin(c);
      return;
    }
    save();
    queued = []; // addressed to the page before this one
    if (call.state !== "ringing") {
      report();
      link.startOver();
    } else {
      maybeOffer(); // our own call, still ringing: the offer waits for the answer
    }
    emit();
    if (!(await mediaArrived(opening)) && !gone()) {
      busy = false;
      await endRejoin(c);
      return;
    }
    busy = false;
    emit();
  }

  // a rejoin that cannot go on (no microphone, no ICE servers): the call ends for both
  async function endRejoin(c) {
    const ack = await request(Event.CALL_HANGUP, { session_id: sessionId, call_id: c.call_id });
    finish(ack.ok && ack.call ? ack.call : { ...c, state: "ended", reason: "failed" });
  }

  function onSignal(s) {
    if (!s || s.session_id !== sessionId || !call || s.call_id !== call.call_id || !(joined || accepting)) return;
    if (s.from && s.from.role === role) return; // another tab of our own identity
    if (s.description) mark(`recv-${s.description.type}`);
    noteRemote(s);
    if (!ready || !joined) {
      queued.push(s);
      if (queued.length > 400) queued.shift();
      return;
    }
    link.handle(s);
    checkPath();
  }

  function toggleMute() {
    if (!call || !joined) return;
    media.setMuted(!media.muted);
    save();
    report();
    emit();
  }

  async function toggleCamera() {
    if (!call || !joined || !ready || busy) return;
    if (media.camera) {
      media.cameraOff();
      await link.setTracks({ video: null });
    } else {
      busy = true;
      emit();
      try {
        const track = await media.cameraOn();
        if (link) await link.setTracks({ video: track });
        say("");
      } catch (err) {
        say(mediaErrorText(err, "camera", text));
      }
      busy = false;
    }
    save();
    report();
    emit();
  }

  return {
    on: events.on,
    snapshot,
    start,
    accept,
    decline,
    hangup,
    toggleMute,
    toggleCamera,
    resume,
    debug,
    // call.state and rtc.signal pushes for this session
    push(name, data) {
      if (name === Event.CALL_STATE) follow(data);
      else if (name === Event.RTC_SIGNAL) onSignal(data);
    },
    clearError() {
      say("");
      emit();
    },
    destroy() {
      destroyed = true;
      clearTimeout(endedTimer);
      clearTimeout(connectTimer);
      if (link) link.close();
      link = null;
      media.close();
      events.clear();
    },
  };
}
