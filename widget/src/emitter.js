// A tiny event emitter: on() returns its own unsubscribe function; a listener that throws
// is reported on the console and never stops the others (or the widget).
export function createEmitter() {
  const listeners = new Map();
  const off = (name, fn) => {
    const set = listeners.get(name);
    if (set) set.delete(fn);
  };
  return {
    on(name, fn) {
      if (typeof fn !== "function") return () => {};
      if (!listeners.has(name)) listeners.set(name, new Set());
      listeners.get(name).add(fn);
      return () => off(name, fn);
    },
    off,
    emit(name, ...args) {
      const set = listeners.get(name);
      if (!set) return;
      for (const fn of [...set]) {
        try {
          fn(...args);
        } catch (err) {
          console.error("[DCS] listener for", name, "failed:", err);
        }
      }
    },
    clear() {
      listeners.clear();
    },
  };
}
