// The agent console, entry point: load the settings, sign in (demo agent, pasted token or
// #token=), then connect and run the workspace until sign-out or a refused token.
import { loadConfig } from "./config.js";
import {
  SignInError,
  checkPastedToken,
  forgetCredential,
  loadCredential,
  provisionalName,
  saveCredential,
  takeTokenFromFragment,
  tokenSource,
} from "./auth.js";
import { createConnection } from "./connection.js";
import { createStore } from "./store.js";
import { createActions, forgetPresence } from "./actions.js";
import { createSync } from "./sync.js";
import { createCalls } from "./call.js";
import { createCobrowse } from "./cobrowse.js";
import { createSignIn } from "./views/signin.js";
import { createNotice } from "./views/notice.js";
import { createWorkspace } from "./views/workspace.js";
import { createSignOutDialog } from "./views/signout.js";

const TITLE = "DCS agent console";

const REFUSED_HINTS = {
  token_expired: "Your sign-in has expired. Sign in again.",
  token_invalid: "The server did not accept this token.",
  token_missing: "No token was sent. Sign in again.",
  origin_denied: "This page's address is not allowed to connect.",
};

async function main() {
  const root = document.getElementById("dcs-console") || document.body;
  const config = await loadConfig();
  let running = null; // {conn, store, workspace, cleanup}

  const signin = createSignIn({
    config,
    onDemo: (agentId) => signIn({ kind: "demo", agent: agentId }),
    onToken: (raw) => {
      try {
        signIn({ kind: "token", token: checkPastedToken(raw) });
      } catch (err) {
        signin.setError(err.message);
      }
    },
  });

  function showSignIn(error = "") {
    root.replaceChildren(signin.el);
    document.title = `Sign in · ${TITLE}`;
    signin.setBusy(false);
    signin.setError(error);
    signin.focus();
  }

  async function signIn(credential, { auto = false } = {}) {
    if (running) return;
    signin.setError("");
    const who = credential.kind === "demo" ? provisionalName(config, credential) : "";
    signin.setBusy(true, who ? `Signing in as ${who}…` : "Signing in…");
    const getToken = tokenSource(config, credential);
    let first;
    try {
      first = await getToken();
    } catch (err) {
      if (auto) forgetCredential();
      signin.setBusy(false);
      signin.setError(err instanceof SignInError ? err.message : `Could not sign in: ${err.message || err}`);
      return;
    }
    saveCredential(credential);
    signin.setBusy(false);
    signin.clearToken();
    start(credential, getToken, first);
  }

  function start(credential, getToken, firstToken) {
    const store = createStore();
    const conn = createConnection({ getToken, firstToken });
    const notice = createNotice();
    const actions = createActions({ conn, store, notify: notice.say });
    const apply = createSync({ store, actions, notify: notice.say });
    const calls = createCalls({ conn, store, notify: notice.say });
    const cobrowse = createCobrowse({ conn, store, notify: notice.say });
    const leaving = createSignOutDialog({ conn, store, onSignedOut: signOut });
    const workspace = createWorkspace({
      store,
      actions,
      calls,
      cobrowse,
      notice,
      provisionalName: provisionalName(config, credential),
      onSignOut: () => leaving.ask(),
    });

    const updateTitle = () => {
      const unread = store.totalUnread();
      document.title = unread ? `(${unread}) ${TITLE}` : TITLE;
    };
    const onVisible = () => {
      if (document.visibilityState === "visible" && store.selectedId) store.markRead(store.selectedId);
    };
    document.addEventListener("visibilitychange", onVisible);
    store.on("sessions", updateTitle);

    conn.on("state", (state) => store.setConnection(state));
    conn.on("push", apply);
    conn.on("push", calls.onPush); // after apply: a handoff's session is held by then
    conn.on("push", cobrowse.onPush);
    conn.on("connected", () => actions.resume());
    conn.on("refused", ({ code, message }) => {
      stop();
      forgetCredential();
      const hint = REFUSED_HINTS[code];
      showSignIn(hint && hint !== message ? `${hint} (${message})` : message);
    });

    running = {
      stop() {
        document.removeEventListener("visibilitychange", onVisible);
        conn.stop();
        notice.destroy();
        workspace.destroy();
        leaving.destroy();
        calls.destroy();
        cobrowse.destroy();
        store.reset();
      },
    };
    root.replaceChildren(workspace.el, leaving.el);
    updateTitle();
    conn.start();
  }

  function stop() {
    if (!running) return;
    const current = running;
    running = null;
    current.stop();
  }

  function signOut() {
    stop();
    forgetCredential();
    forgetPresence();
    showSignIn("");
  }

  async function signInFromFragment() {
    const token = takeTokenFromFragment();
    if (!token) return false;
    try {
      await signIn({ kind: "token", token: checkPastedToken(token) });
    } catch (err) {
      signin.setError(err.message);
    }
    return true;
  }

  showSignIn(config.error || "");
  // a #token= link opened in this tab while it shows the sign-in screen
  window.addEventListener("hashchange", () => {
    if (!running) signInFromFragment();
  });

  if (await signInFromFragment()) return;
  const saved = loadCredential();
  if (saved && (saved.kind === "token" || config.demo)) await signIn(saved, { auto: true });
}

main().catch((err) => {
  console.error("[DCS console] failed to start:", err);
  const root = document.getElementById("dcs-console") || document.body;
  const message = document.createElement("p");
  message.className = "fatal";
  message.setAttribute("role", "alert");
  message.textContent = "The console could not start. Reload the page to try again.";
  root.replaceChildren(message);
});
