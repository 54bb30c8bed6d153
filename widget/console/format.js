// Formatting of times, durations and values from the network (all returned as plain text).

export function formatDuration(ms) {
  const total = Math.max(0, Math.floor(ms / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  const ss = String(seconds).padStart(2, "0");
  if (hours > 0) return `${hours}:${String(minutes).padStart(2, "0")}:${ss}`;
  return `${minutes}:${ss}`;
}

// "10:42" for today, "22 Nov, 10:42" otherwise
export function formatClock(ms) {
  if (typeof ms !== "number" || !Number.isFinite(ms)) return "";
  const date = new Date(ms);
  const sameDay = date.toDateString() === new Date().toDateString();
  const time = date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  if (sameDay) return time;
  return `${date.toLocaleDateString([], { day: "numeric", month: "short" })}, ${time}`;
}

export function isoTime(ms) {
  if (typeof ms !== "number" || !Number.isFinite(ms)) return "";
  try {
    return new Date(ms).toISOString();
  } catch {
    return "";
  }
}

// the URL as a string if it is http(s), else null (never a javascript: or data: link)
export function safeHttpUrl(url) {
  if (typeof url !== "string" || !url) return null;
  try {
    const parsed = new URL(url);
    return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
  } catch {
    return null;
  }
}

// any JSON value as display text
export function displayValue(value) {
  if (value == null) return "—";
  if (typeof value === "string") return value || "—";
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

export function str(value, fallback = "") {
  return typeof value === "string" && value ? value : fallback;
}

export function customerLabel(customer) {
  if (!customer || typeof customer !== "object") return "Customer";
  return str(customer.name) || str(customer.id) || "Customer";
}

const STATE_LABELS = {
  virtual: "With assistant",
  queued: "Waiting",
  live: "Live",
  wrap_up: "Wrap-up",
  ended: "Ended",
};

export function stateLabel(state) {
  return STATE_LABELS[state] || str(state, "Unknown");
}
