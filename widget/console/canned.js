// Canned responses: the ones for a session's queue (and "*", every queue), with their
// placeholders filled from the handoff: {first_name}, {name}, {order}, and any customer
// attribute or understood slot by its key. A placeholder with no value stays as written,
// so the agent sees what to fill in before sending.

export function cannedFor(config, queue) {
  const all = (config && config.cannedResponses) || {};
  const seen = new Set();
  const out = [];
  for (const item of [...(all[queue] || []), ...(all["*"] || [])]) {
    if (seen.has(item.shortcut)) continue; // the queue's own wins over "*"
    seen.add(item.shortcut);
    out.push(item);
  }
  return out;
}

function scalar(value) {
  return typeof value === "string" || typeof value === "number" ? String(value) : "";
}

export function placeholderValues(entry) {
  const values = {};
  if (!entry) return values;
  const attrs = (entry.customer && entry.customer.attributes) || {};
  const slots = (entry.understanding && entry.understanding.slots) || {};
  for (const [key, value] of [...Object.entries(attrs), ...Object.entries(slots)]) if (scalar(value)) values[key] = scalar(value);
  const name = scalar(entry.customer && entry.customer.name) || scalar(attrs.name);
  if (name) values.name = values.name || name;
  if (!values.first_name && name) values.first_name = name.trim().split(/\s+/)[0];
  const order = values.order || values.order_number || values.order_id;
  if (order) values.order = order;
  return values;
}

export function fillPlaceholders(text, values) {
  return String(text).replace(/\{(\w+)\}/g, (all, key) => (values[key] ? values[key] : all));
}
