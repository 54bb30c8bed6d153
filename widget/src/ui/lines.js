// System lines (joined, ended, queued, calls, sharing...) in the customer's language. The
// server sends each with its English text and, in message.line, a code and arguments;
// a locale that has "line_<code>" shows its own sentence, else the server's English
// (whyText formats an opening time in the customer's own time zone).
import { whyText } from "./waiting.js";

const PARTS = ["call", "cobrowse"]; // what may have ended with the agent ({ended})

function endedText(t, ended) {
  const parts = ended.filter((p) => PARTS.includes(p));
  if (!parts.length) return "";
  return t(parts.length > 1 ? "line_ended_both" : `line_ended_${parts[0]}`);
}

export function lineText(t, m) {
  const line = m.line;
  if (!line || typeof line.code !== "string" || !t.has || !t.has(`line_${line.code}`)) return m.text;
  const args = line.args && typeof line.args === "object" ? { ...line.args } : {};
  if (Array.isArray(args.ended)) args.ended = endedText(t, args.ended);
  if (args.reason) args.why = whyText(t, { reason: args.reason, opens_at: args.opens_at });
  return t(`line_${line.code}`, args);
}
