// How a frame travels through the server relay (cobrowse.data), where each small frame is an
// event of its own: the event's envelope (ids, ~110 bytes) and the escaping of the frame's
// quotes inside it would cost a keystroke's frame about twice what the data channel does,
// and frames come too far apart (a keystroke every ~130 ms) for a few-ms batch to gather
// them. Instead each relayed frame is written against the last few frames this side relayed
// that the server has acknowledged (so the receiver has them: the server relays a frame
// before it acknowledges it, and a later one after that): what repeats (the frame's
// structure, the ids, most of the text) becomes a short copy of them.
//
//   ^<sender>.<n>[.<base>...]:<body>
//
// <sender>: 4 characters, one per channel (a reloaded page or another console tab is
// another sender); <n>: this frame's number; <base>s: the sender's earlier frames whose
// texts, joined, are the dictionary. <body>: the frame's JSON text with " and ' swapped
// (no escaping inside the event) and LZ77-style copies: "~" + 2 characters of distance back
// + 1 of length - MIN_MATCH (in ALPHABET), "~~" for a "~". A frame that starts with "{" is
// plain JSON (so are pieces of big frames, which are deflated already).
//
// Deflated frames and pieces of big ones go plain and start the chain afresh (no frame
// before them is a base): a snapshot, which a console that joins or reloads asks for, is
// deflated, so it and what follows can be read by a receiver that has nothing before it.
// A receiver that lacks a base all the same (its connection dropped for a while) drops the
// frame and tells the sender ({"t":"rz","s":sender}, channel.js), which starts afresh; the
// console then misses "ev" frames and asks for a fresh snapshot (sequencer.js).

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const INDEX = new Map([...ALPHABET].map((c, i) => [c, i]));
const MIN_MATCH = 5; // a copy token is 4 characters
const MAX_MATCH = MIN_MATCH + 63;
const MAX_DISTANCE = 64 * 64 - 1;
export const CODEC_MAX_CHARS = 3000; // bigger frames go plain
const MAX_BASES = 3;
const MAX_DICTIONARY = 3000;
const MAX_DECODED = 64 * 1024;
const KEEP_RECEIVED = 64; // frames of each sender kept as possible bases
const HEADER = /^\^([a-z0-9]{4})\.(\d{1,9})((?:\.\d{1,9}){0,3}):/;

const swap = (text) => text.replace(/["']/g, (c) => (c === '"' ? "'" : '"'));
const isLow = (code) => code >= 0xdc00 && code <= 0xdfff;
const isHigh = (code) => code >= 0xd800 && code <= 0xdbff;

// body of `text` against `dictionary` (both swapped)
function compress(dictionary, text) {
  const all = dictionary + text;
  const heads = new Map(); // 4 characters -> recent positions
  const remember = (i) => {
    const key = all.substr(i, 4);
    const list = heads.get(key);
    if (!list) heads.set(key, [i]);
    else {
      list.push(i);
      if (list.length > 8) list.shift();
    }
  };
  for (let i = 0; i + 4 <= dictionary.length; i += 1) remember(i);
  let out = "";
  let i = dictionary.length;
  while (i < all.length) {
    let best = 0;
    let from = 0;
    const code = all.charCodeAt(i);
    const list = !isLow(code) && i + MIN_MATCH <= all.length ? heads.get(all.substr(i, 4)) : null;
    if (list) {
      for (let k = list.length - 1; k >= 0; k -= 1) {
        const j = list[k];
        if (i - j > MAX_DISTANCE) continue;
        let n = 0;
        while (n < MAX_MATCH && i + n < all.length && all.charCodeAt(j + n) === all.charCodeAt(i + n)) n += 1;
        if (n > best) {
          best = n;
          from = j;
        }
      }
      if (best > 0 && isHigh(all.charCodeAt(i + best - 1))) best -= 1; // never half a pair
    }
    if (best >= MIN_MATCH) {
      const distance = i - from;
      out += `~${ALPHABET[distance >> 6]}${ALPHABET[distance & 63]}${ALPHABET[best - MIN_MATCH]}`;
      for (let k = 0; k < best; k += 1) if (i + k + 4 <= all.length) remember(i + k);
      i += best;
    } else {
      const ch = all[i];
      out += ch === "~" ? "~~" : ch;
      if (i + 4 <= all.length) remember(i);
      i += 1;
    }
  }
  return out;
}

// the swapped text of `body` against `dictionary`, or null if it is not valid
function expand(dictionary, body) {
  let out = dictionary;
  for (let i = 0; i < body.length; ) {
    const ch = body[i];
    if (ch !== "~") {
      out += ch;
      i += 1;
    } else if (body[i + 1] === "~") {
      out += "~";
      i += 2;
    } else {
      const hi = INDEX.get(body[i + 1]);
      const lo = INDEX.get(body[i + 2]);
      const len = INDEX.get(body[i + 3]);
      if (hi === undefined || lo === undefined || len === undefined) return null;
      const distance = (hi << 6) | lo;
      const n = len + MIN_MATCH;
      const from = out.length - distance;
      if (distance < 1 || from < 0) return null;
      // a copy may overlap what it writes (a run): character by character then
      if (from + n <= out.length) out += out.slice(from, from + n);
      else for (let k = 0; k < n; k += 1) out += out[from + k];
      i += 4;
    }
    if (out.length - dictionary.length > MAX_DECODED) return null;
  }
  return out.slice(dictionary.length);
}

function randomSender() {
  const chars = "abcdefghijklmnopqrstuvwxyz0123456789";
  let id = "";
  for (let i = 0; i < 4; i += 1) id += chars[Math.floor(Math.random() * chars.length)];
  return id;
}

// One side's sender: encode(text) -> {wire, n}; acked(n, ...) once the server took it.
export function createRelayEncoder() {
  const sender = randomSender();
  let next = 0;
  const pending = new Map(); // n -> swapped text, sent and not acknowledged yet
  let bases = []; // [{n, text}] acknowledged, newest last

  return {
    sender,
    encode(text) {
      if (text.length > CODEC_MAX_CHARS || text.startsWith('{"t":"z"') || text.startsWith('{"t":"part"')) {
        this.reset();
        return { wire: text, n: null };
      }
      next += 1;
      const n = next;
      const swapped = swap(text);
      const used = [];
      let size = 0;
      for (let k = bases.length - 1; k >= 0 && used.length < MAX_BASES; k -= 1) {
        if (size + bases[k].text.length > MAX_DICTIONARY) break;
        used.unshift(bases[k]);
        size += bases[k].text.length;
      }
      const body = compress(used.map((b) => b.text).join(""), swapped);
      pending.set(n, swapped);
      if (pending.size > 256) pending.delete(pending.keys().next().value);
      return { wire: `^${sender}.${n}${used.map((b) => `.${b.n}`).join("")}:${body}`, n };
    },
    // the server relayed frame n: it may be a base from now on
    acked(n) {
      const text = pending.get(n);
      if (text === undefined) return;
      pending.delete(n);
      bases.push({ n, text });
      if (bases.length > MAX_BASES * 2) bases = bases.slice(-MAX_BASES);
    },
    // frame n did not get through
    failed(n) {
      pending.delete(n);
    },
    // no frame sent so far is a base any more
    reset() {
      pending.clear();
      bases = [];
    },
  };
}

// The receiving side: decode(wire) -> the frame's JSON text, or null (not valid, or a base
// is missing: missing is then that frame's sender). Plain frames pass as they are.
export function createRelayDecoder() {
  const received = new Map(); // "sender.n" -> swapped text, newest last

  return {
    missing: "",
    decode(wire) {
      this.missing = "";
      if (typeof wire !== "string" || wire[0] !== "^") return wire;
      const head = HEADER.exec(wire);
      if (!head) return null;
      const [whole, sender, n, list] = head;
      let dictionary = "";
      for (const base of list ? list.slice(1).split(".") : []) {
        const text = received.get(`${sender}.${base}`);
        if (text === undefined) {
          this.missing = sender;
          return null;
        }
        dictionary += text;
      }
      if (dictionary.length > MAX_DICTIONARY) return null;
      const swapped = expand(dictionary, wire.slice(whole.length));
      if (swapped === null) return null;
      const key = `${sender}.${n}`;
      received.delete(key);
      received.set(key, swapped);
      if (received.size > KEEP_RECEIVED) received.delete(received.keys().next().value);
      return swap(swapped);
    },
  };
}
