// Big co-browse frames (snapshots, large mutations) travel deflated: rrweb's JSON shrinks
// about five-fold, which keeps a browsing customer's stream a few kilobits per second.
// The browser's own CompressionStream does it (no library in the chunk); a deflated frame
// is {"t":"z","d": base64 of deflate-raw(JSON text)}, so it goes over the data channel and
// the relay alike. Small frames (pointer moves, keystrokes) go as they are: deflating them
// gains nothing and would only add latency.

export const DEFLATE_OVER = 1024; // characters of JSON
const MAX_INFLATED = 64 << 20; // a "z" frame that inflates beyond this is dropped

const supported = typeof CompressionStream === "function" && typeof DecompressionStream === "function";

async function through(stream, bytes, limit = Infinity) {
  const writer = stream.writable.getWriter();
  writer.write(bytes).catch(() => {});
  writer.close().catch(() => {});
  const chunks = [];
  let size = 0;
  const reader = stream.readable.getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > limit) {
      reader.cancel().catch(() => {});
      throw new Error("inflated frame too large");
    }
    chunks.push(value);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

// (the browser's own base64 where it has it: Chromium 140+, Firefox 133+, Safari 18.2+)
function toBase64(bytes) {
  if (typeof bytes.toBase64 === "function") return bytes.toBase64();
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

function fromBase64(text) {
  if (typeof Uint8Array.fromBase64 === "function") return Uint8Array.fromBase64(text);
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

// The frame as it should travel: the object itself, or its deflated form.
export async function pack(obj) {
  const text = JSON.stringify(obj);
  if (!supported || text.length <= DEFLATE_OVER) return obj;
  const deflated = await through(new CompressionStream("deflate-raw"), new TextEncoder().encode(text));
  return { t: "z", d: toBase64(deflated) };
}

// The frame as sent: a deflated one inflated (null if it is not valid), any other as it is.
export async function unpack(obj) {
  if (!obj || obj.t !== "z") return obj;
  if (!supported || typeof obj.d !== "string") return null;
  try {
    const bytes = await through(new DecompressionStream("deflate-raw"), fromBase64(obj.d), MAX_INFLATED);
    const inner = JSON.parse(new TextDecoder().decode(bytes));
    return inner && typeof inner === "object" && !Array.isArray(inner) && inner.t !== "z" ? inner : null;
  } catch (_) {
    return null;
  }
}
