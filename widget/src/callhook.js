// The first script's side of calls: it loads the call code (dcs-call.js, next to this
// script) only when a call needs it: one rings, one is found under way after a reload, or
// the customer presses Call. Until it has loaded, what it must act on is queued.
import { Event } from "./protocol.js";

export function createCallHook({ url, request, getSessionId, getSlot, openPanel, onChange, notice }) {
  let api = null;
  let loading = null;
  let queue = [];
  let active = false;

  function load() {
    if (!loading) {
      loading = import(/* webpackIgnore: true */ url)
        .then((mod) => {
          api = mod.mountCall({
            request,
            getSessionId,
            slot: getSlot(),
            openPanel,
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
          notice("Calls are not available right now; the chat still works.");
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
