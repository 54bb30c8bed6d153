// The first script's side of calls: it loads the call code (dcs-call.js, next to this
// script) only when a call needs it: one rings, one is found under way after a reload, or
// the customer presses Call. Until it has loaded, what it must act on is queued.
//
// A page that was in a call before a reload or navigation (the call code keeps a note in
// sessionStorage while it takes part in one) starts fetching the call code at once, while
// the connection and the session come back, so that rejoining does not wait for it.
import { Event } from "./protocol.js";

const SAVED_PREFIX = "dcs.call."; // controller.js remembers the call it is in under this prefix

function callWasUnderWay() {
  try {
    const store = window.sessionStorage;
    for (let i = 0; i < store.length; i += 1) if ((store.key(i) || "").startsWith(SAVED_PREFIX)) return true;
  } catch (_) {
    /* no storage: nothing remembered */
  }
  return false;
}

export function createCallHook({ url, request, getSessionId, getSlot, getLayer, openPanel, onChange, notice, say, getT, isOpen }) {
  let api = null;
  let loading = null;
  let queue = [];
  let active = false;
  let fetched = null; // the module, fetched ahead of need

  function fetchModule() {
    if (!fetched) {
      fetched = import(/* webpackIgnore: true */ url);
      fetched.catch(() => {
        fetched = null; // try again when needed
      });
    }
    return fetched;
  }

  if (callWasUnderWay()) fetchModule();

  function load() {
    if (!loading) {
      loading = fetchModule()
        .then((mod) => {
          try {
            performance.mark("dcs.call.chunk");
          } catch (_) {
            /* no User Timing */
          }
          api = mod.mountCall({
            request,
            getSessionId,
            slot: getSlot(),
            layer: getLayer(),
            openPanel,
            t: getT(),
            isOpen,
            onActive: (value) => {
              if (value === active) return;
              active = value;
              onChange();
            },
          });
          const waiting = queue;
          queue = [];
          for (const [name, args] of waiting) api[name](...args);
        })
        .catch((err) => {
          loading = null;
          queue = [];
          console.error("[DCS] the call code could not be loaded:", err);
          notice(say("calls_unavailable"));
        });
    }
    return loading;
  }

  function run(name, ...args) {
    if (api) return api[name](...args);
    queue.push([name, args]);
    load();
    return undefined;
  }

  return {
    get active() {
      return active;
    },
    // call.state and rtc.signal for the current session
    push(name, data) {
      if (api) api.push(name, data);
      else if (loading) queue.push(["push", [name, data]]);
      else if (name === Event.CALL_STATE && data && data.state === "ringing") run("push", name, data);
    },
    // session.start's ack: the call under way in the session, or null
    resume(call) {
      if (api) api.resume(call || null);
      else if (call || loading) run("resume", call || null);
    },
    start(video) {
      run("start", !!video);
    },
  };
}
