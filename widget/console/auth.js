// Who the agent signed in as, remembered for this tab (sessionStorage), and fresh tokens
// for every (re)connect: demo agents get a newly minted token each time; a pasted token
// (or one from the #token= fragment) is used as it is until the server refuses it.
const STORAGE_KEY = "dcs.console.signin";

export class SignInError extends Error {}

export function loadCredential() {
  try {
    const raw = sessionStorage.getItem(STORAGE_KEY);
    const value = raw ? JSON.parse(raw) : null;
    if (value && value.kind === "demo" && typeof value.agent === "string" && value.agent) return value;
    if (value && value.kind === "token" && typeof value.token === "string" && value.token) return value;
  } catch {
    // unreadable or unavailable storage: sign in again
  }
  return null;
}

export function saveCredential(credential) {
  try {
    sessionStorage.setItem(STORAGE_KEY, JSON.stringify(credential));
  } catch {
    // private mode and the like: the agent signs in again after a reload
  }
}

export function forgetCredential() {
  try {
    sessionStorage.removeItem(STORAGE_KEY);
  } catch {
    // nothing to forget
  }
}

// #token=<jwt> in the address: take it and remove it from the address bar and history
export function takeTokenFromFragment() {
  const hash = window.location.hash.replace(/^#/, "");
  if (!hash) return null;
  const token = new URLSearchParams(hash).get("token");
  if (!token) return null;
  try {
    history.replaceState(null, "", window.location.pathname + window.location.search);
  } catch {
    window.location.hash = "";
  }
  return token.trim();
}

// The token's claims, unverified (the server verifies): only to catch an obvious mistake
// (a customer token, an expired one) before connecting.
export function peekClaims(token) {
  try {
    const part = token.split(".")[1];
    const b64 = part.replace(/-/g, "+").replace(/_/g, "/");
    const json = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
    const claims = JSON.parse(json);
    return claims && typeof claims === "object" ? claims : null;
  } catch {
    return null;
  }
}

export function checkPastedToken(raw) {
  const token = String(raw || "").trim();
  if (!token) throw new SignInError("Paste an agent token to sign in.");
  if (token.split(".").length !== 3) throw new SignInError("That does not look like a token (a JWT has three parts).");
  const claims = peekClaims(token);
  if (claims) {
    if (claims.role && claims.role !== "agent" && claims.role !== "supervisor") {
      throw new SignInError(`This is a ${claims.role} token; the console needs an agent token.`);
    }
    if (typeof claims.exp === "number" && claims.exp * 1000 < Date.now()) {
      throw new SignInError("This token has expired. Ask for a new one.");
    }
  }
  return token;
}

async function fetchDemoToken(config, agentId) {
  const url = `${config.demoTokenUrl}?agent=${encodeURIComponent(agentId)}`;
  let res;
  try {
    res = await fetch(url, { headers: { Accept: "application/json" }, cache: "no-store" });
  } catch {
    throw new SignInError("Could not reach the server for a token.");
  }
  let body = null;
  try {
    body = await res.json();
  } catch {
    body = null;
  }
  if (!res.ok) {
    const message = body?.error?.message;
    throw new SignInError(typeof message === "string" && message ? message : `The token service answered ${res.status}.`);
  }
  if (!body || typeof body.token !== "string" || !body.token) throw new SignInError("The token service sent no token.");
  return body.token;
}

// a getToken() for this credential; each call gives a token for one connect attempt
export function tokenSource(config, credential) {
  if (credential.kind === "demo") return () => fetchDemoToken(config, credential.agent);
  return () => Promise.resolve(credential.token);
}

// the name to show before the server's agent.state arrives
export function provisionalName(config, credential) {
  if (credential.kind === "demo") {
    return config.demoAgents.find((a) => a.id === credential.agent)?.name || credential.agent;
  }
  const claims = peekClaims(credential.token);
  return (claims && (claims.name || claims.sub)) || "";
}
