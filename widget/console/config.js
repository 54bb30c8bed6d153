// The console's settings from the server: whether demo agents are offered, and how to get
// their tokens. A missing or broken config falls back to token sign-in.
const CONFIG_URL = "/console/config.json";

const FALLBACK = Object.freeze({ demo: false, demoAgents: [], demoTokenUrl: "", dispositions: [], cannedResponses: {} });

// wrap-up disposition codes [{code, label}] and canned responses {queue: [{shortcut, title, text}]}
// (checked by the server at start: signaling_server/workspace.py)
function cleanDispositions(list) {
  if (!Array.isArray(list)) return [];
  return list.filter((d) => d && typeof d.code === "string" && d.code && typeof d.label === "string");
}

function cleanCanned(map) {
  const out = {};
  if (!map || typeof map !== "object") return out;
  for (const [queue, items] of Object.entries(map)) {
    if (!Array.isArray(items)) continue;
    out[queue] = items.filter((c) => c && typeof c.shortcut === "string" && typeof c.text === "string");
  }
  return out;
}

function cleanAgents(list) {
  if (!Array.isArray(list)) return [];
  return list
    .filter((a) => a && typeof a === "object" && typeof a.id === "string" && a.id)
    .map((a) => ({
      id: a.id,
      name: typeof a.name === "string" && a.name ? a.name : a.id,
      skills: Array.isArray(a.skills) ? a.skills.filter((s) => typeof s === "string") : [],
      role: a.role === "supervisor" ? "supervisor" : "agent",
    }));
}

// resolves {demo, demoAgents, demoTokenUrl, dispositions, cannedResponses, error?}; never rejects
export async function loadConfig() {
  try {
    const res = await fetch(CONFIG_URL, { headers: { Accept: "application/json" }, cache: "no-store" });
    if (!res.ok) throw new Error(`the server answered ${res.status}`);
    const body = await res.json();
    const demoAgents = cleanAgents(body && body.demo_agents);
    const demoTokenUrl = typeof body?.demo_token_url === "string" ? body.demo_token_url : "";
    const demo = Boolean(body && body.demo) && demoAgents.length > 0 && Boolean(demoTokenUrl);
    return {
      demo,
      demoAgents,
      demoTokenUrl,
      dispositions: cleanDispositions(body && body.dispositions),
      cannedResponses: cleanCanned(body && body.canned_responses),
    };
  } catch (err) {
    return { ...FALLBACK, error: `Could not load the console settings (${err.message || err}).` };
  }
}
