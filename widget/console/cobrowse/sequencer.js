// Puts the customer's "ev" frames back in order. Each recording (epoch `g`) numbers its
// frames from 1 (`s`); frames can arrive out of order when the transport switches between
// the data channel and the server relay, so later ones wait here for the missing ones.
// A frame of a new epoch starts over (the caller rebuilds its view); frames of an epoch
// already left behind are dropped, so a late frame never drags the view back.
//
// push(frame) returns what is ready, in order: [{epoch, seq, events, fresh}], `fresh` on
// the first frame of a new epoch (seq 1: its Meta and FullSnapshot).

const MAX_WAITING = 4000; // frames held for a gap: beyond this the epoch is given up
const MAX_RETIRED = 64;

function validEpoch(g) {
  return (typeof g === "string" && g.length > 0 && g.length <= 64) || (Number.isSafeInteger(g) && g >= 0);
}

export function createSequencer() {
  let epoch = null; // current epoch id
  let next = 1; // the seq applied next
  let waiting = new Map(); // seq -> events, for the current epoch
  let started = false; // seq 1 of the current epoch was delivered
  const retired = []; // epochs left behind (bounded)

  function retire(g) {
    if (g === null) return;
    retired.push(g);
    if (retired.length > MAX_RETIRED) retired.shift();
  }

  function push(frame) {
    const { g, s, e } = frame || {};
    if (!validEpoch(g) || !Number.isSafeInteger(s) || s < 1 || !Array.isArray(e)) return [];
    if (retired.includes(g)) return [];
    if (g !== epoch) {
      retire(epoch);
      epoch = g;
      next = 1;
      waiting = new Map();
      started = false;
    }
    if (s < next || waiting.has(s)) return []; // a duplicate (both paths carried it)
    waiting.set(s, e);
    if (waiting.size > MAX_WAITING) {
      // seq 1 (or a later one) never came: nothing of this epoch can be shown correctly
      retire(epoch);
      epoch = null;
      waiting = new Map();
      return [];
    }
    const ready = [];
    while (waiting.has(next)) {
      ready.push({ epoch, seq: next, events: waiting.get(next), fresh: next === 1 });
      waiting.delete(next);
      started = true;
      next += 1;
    }
    return ready;
  }

  return {
    push,
    get epoch() {
      return epoch;
    },
    get lastSeq() {
      return next - 1;
    },
    get waiting() {
      return waiting.size;
    },
    // whether the epoch under way never showed its first frame (we joined it late)
    get stalled() {
      return epoch !== null && !started && waiting.size > 0;
    },
    reset() {
      retire(epoch);
      epoch = null;
      next = 1;
      waiting = new Map();
      started = false;
    },
  };
}
