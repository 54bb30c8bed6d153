// A tiny event emitter: on() returns its unsubscribe function; a listener that throws is
// reported and never stops the others.
export function createEmitter() {
  const listeners = new Map();
  return {
    on(name, fn) {
      if (!listeners.has(name)) listeners.set(name, new Set());
      listeners.get(name).add(fn);
      return () => listeners.get(name)?.delete(fn);
    },
    emit(name, ...args) {
      for (const fn of [...(listeners.get(name) || [])]) {
        try {
          fn(...args);
        } catch (err) {
          console.error("[DCS console] listener for", name, "failed:", err);
        }
      }
    },
    clear() {
      listeners.clear();
    },
  };
}
