// What the widget remembers in the browser:
//   localStorage   dcs:session  the session id (survives reloads, navigation and new tabs)
//   sessionStorage dcs:open     "1"/"0": was the panel open (per tab)
//   sessionStorage dcs:pending  [{client_id, text}]: messages sent but not yet acknowledged
// Storage can be missing or throw (privacy modes, sandboxed frames): fall back to memory.
const KEY_SESSION = "dcs:session";
const KEY_OPEN = "dcs:open";
const KEY_PENDING = "dcs:pending";

function area(name) {
  try {
    const store = window[name];
    store.setItem("dcs:probe", "1");
    store.removeItem("dcs:probe");
    return store;
  } catch (_) {
    return null;
  }
}

function createArea(name) {
  const store = area(name);
  const memory = new Map();
  return {
    get(key) {
      try {
        return store ? store.getItem(key) : memory.has(key) ? memory.get(key) : null;
      } catch (_) {
        return null;
      }
    },
    set(key, value) {
      try {
        if (store) store.setItem(key, value);
        else memory.set(key, value);
      } catch (_) {
        memory.set(key, value);
      }
    },
    remove(key) {
      try {
        if (store) store.removeItem(key);
      } catch (_) {
        /* ignore */
      }
      memory.delete(key);
    },
  };
}

export function createStorage() {
  const local = createArea("localStorage");
  const tab = createArea("sessionStorage");
  return {
    sessionId() {
      const id = local.get(KEY_SESSION);
      return id && /^[A-Za-z0-9_-]{8,64}$/.test(id) ? id : null;
    },
    setSessionId(id) {
      if (id) local.set(KEY_SESSION, id);
      else local.remove(KEY_SESSION);
    },
    wasOpen() {
      const value = tab.get(KEY_OPEN);
      return value === null ? null : value === "1";
    },
    setOpen(open) {
      tab.set(KEY_OPEN, open ? "1" : "0");
    },
    pending() {
      try {
        const list = JSON.parse(tab.get(KEY_PENDING) || "[]");
        return Array.isArray(list)
          ? list.filter((p) => p && typeof p.client_id === "string" && typeof p.text === "string")
          : [];
      } catch (_) {
        return [];
      }
    },
    setPending(list) {
      if (list.length) tab.set(KEY_PENDING, JSON.stringify(list));
      else tab.remove(KEY_PENDING);
    },
  };
}
