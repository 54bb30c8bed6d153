// Co-browse frames (docs/protocol.md, "Frames"): a frame is a JSON text; one too long for
// the relay is cut into {"t":"part","id","i","n","d"} pieces (i counts from 0), each at most
// MAX_FRAME_CHARS long and small enough for the server's event limit. The same pieces go
// over either path, and the assembler takes them from both. Used by both sides (the
// widget's sharer and the console's viewer).

export const MAX_FRAME_CHARS = 12000;
// A frame through the relay also has to fit the server's 16,384-byte event limit, measured
// on the payload's ASCII-escaped JSON (quotes and backslashes count twice, any other
// non-ASCII character six times), with room for the ids around it.
const MAX_RELAY_CHARS = 16384 - 300;
// room for a piece's envelope: {"t":"part","id":…,"i":…,"n":…,"d":""}, as is and escaped
const PIECE_CHARS = MAX_FRAME_CHARS - 96;
const PIECE_RELAY_CHARS = MAX_RELAY_CHARS - 128;
const MAX_PIECES = 4096; // ~48 MB: a bigger frame is refused by the assembler
const MAX_OPEN = 32; // frames being reassembled at once; older ones are dropped

// A random start, so that ids from a reloaded page never meet pieces its last page left.
let nextId = Math.floor(Math.random() * 0x3fffffff);

// Where the next piece of `text` from `start` ends (the end of the text if all of it fits
// whole): within both budgets, and never between the halves of a surrogate pair (a lone
// half would not survive UTF-8). What a UTF-16 unit costs: sent whole, the text goes as it
// is and is escaped once in the relay's payload; in pieces, it is escaped in the piece's
// "d" and that again in the payload.
function cut(text, start, piece) {
  const limit = piece ? PIECE_CHARS : MAX_FRAME_CHARS;
  const relayLimit = piece ? PIECE_RELAY_CHARS : MAX_RELAY_CHARS;
  let size = 0;
  let relay = 0;
  let k = start;
  for (; k < text.length; k += 1) {
    const u = text.charCodeAt(k);
    if (u === 34 || u === 92) {
      size += piece ? 2 : 1;
      relay += piece ? 4 : 2;
    } else if (u < 0x20) {
      size += piece ? 6 : 1;
      relay += piece ? 7 : 6;
    } else {
      size += 1;
      relay += u > 0x7e ? 6 : 1;
    }
    if (size > limit || relay > relayLimit) break;
  }
  if (k < text.length && k > start) {
    const last = text.charCodeAt(k - 1);
    if (last >= 0xd800 && last <= 0xdbff) k -= 1;
  }
  return k;
}

export function encodeFrame(obj) {
  const text = JSON.stringify(obj);
  if (cut(text, 0, false) === text.length) return [text];
  const chunks = [];
  for (let start = 0; start < text.length; ) {
    const end = cut(text, start, true);
    chunks.push(text.slice(start, end));
    start = end;
  }
  nextId = (nextId + 1) % 0x7fffffff;
  const id = nextId;
  const n = chunks.length;
  return chunks.map((d, i) => JSON.stringify({ t: "part", id, i, n, d }));
}

// push(text) -> the frame object once complete (a whole frame at once, or its last
// piece), else null. Pieces may come in any order and over either path. Bad input is
// dropped, never thrown.
export function createAssembler() {
  const open = new Map(); // id -> {n, got, parts}

  function parse(text) {
    try {
      const obj = JSON.parse(text);
      return obj && typeof obj === "object" && !Array.isArray(obj) ? obj : null;
    } catch (_) {
      return null;
    }
  }

  return {
    push(text) {
      if (typeof text !== "string") return null;
      const obj = parse(text);
      if (!obj || obj.t !== "part") return obj;
      const { id, i, n, d } = obj;
      if (!Number.isInteger(n) || n < 1 || n > MAX_PIECES || !Number.isInteger(i) || i < 0 || i >= n || typeof d !== "string") return null;
      let entry = open.get(id);
      if (!entry || entry.n !== n) {
        entry = { n, got: 0, parts: new Array(n) };
        open.delete(id);
        open.set(id, entry);
        if (open.size > MAX_OPEN) open.delete(open.keys().next().value);
      }
      if (entry.parts[i] === undefined) {
        entry.parts[i] = d;
        entry.got += 1;
      }
      if (entry.got < n) return null;
      open.delete(id);
      return parse(entry.parts.join(""));
    },
    get pending() {
      return open.size;
    },
  };
}
