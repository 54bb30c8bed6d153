// The supervisor's wall as rows (queues, agents, sessions) keyed "q:…", "a:…", "s:…": the
// snapshot, then each change applied (wall.changes carries only the rows that changed).
// Emits "rows" with the kinds that changed, so each table redraws only when it must.
import { createEmitter } from "../emitter.js";

const KINDS = new Set(["queue", "agent", "session"]);

function isObj(v) {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function clean(row) {
  if (!isObj(row) || typeof row.key !== "string" || !KINDS.has(row.kind)) return null;
  return row; // fields are read through the view's formatters, always as text
}

export function createWallModel() {
  const events = createEmitter();
  const rows = new Map();
  let targetS = 60;
  let offsetMs = 0; // server clock minus ours, so durations do not depend on the PC's clock

  function touch(kinds, at) {
    if (typeof at === "number") offsetMs = at - Date.now();
    events.emit("rows", kinds);
  }

  return {
    on: events.on,
    get targetS() {
      return targetS;
    },
    now() {
      return Date.now() + offsetMs;
    },
    get(key) {
      return rows.get(key) || null;
    },
    of(kind) {
      return [...rows.values()].filter((r) => r.kind === kind);
    },
    snapshot(data) {
      if (!isObj(data) || !Array.isArray(data.rows)) return;
      rows.clear();
      for (const raw of data.rows) {
        const row = clean(raw);
        if (row) rows.set(row.key, row);
      }
      if (typeof data.target_s === "number") targetS = data.target_s;
      touch(new Set(KINDS), data.at);
    },
    changes(data) {
      if (!isObj(data) || !Array.isArray(data.rows)) return;
      const kinds = new Set();
      for (const raw of data.rows) {
        const row = clean(raw);
        if (!row) continue;
        rows.set(row.key, row);
        kinds.add(row.kind);
      }
      for (const key of Array.isArray(data.removed) ? data.removed : []) {
        const row = rows.get(key);
        if (row) kinds.add(row.kind);
        rows.delete(key);
      }
      touch(kinds, data.at);
    },
    reset() {
      rows.clear();
      touch(new Set(KINDS));
    },
  };
}
