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
import { titleText } from "./views/alerts.js";
import { createSignOutDialog } from "./views/signout.js";
import { createTransfers } from "./transfers.js";
import { createSupervisorConsole } from "./supervisor/index.js";
import { peekClaims } from "./auth.js";
import { Event } from "../src/protocol.js";
import { createConsoleFiles } from "./files.js";
import { createHistory } from "./history.js";

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

  // a supervisor's token opens the floor (supervisor/), every other the agent workspace
  function startSupervisor(credential, getToken, firstToken) {
    const conn = createConnection({ getToken, firstToken });
    const notice = createNotice();
    const floor = createSupervisorConsole({
      conn,
      notice,
      getToken,
      name: provisionalName(config, credential),
      onSignOut: async () => {
        await conn.request(Event.AGENT_SIGNOUT, {});
        signOut();
      },
    });
    const history = createHistory({ conn }); // the search over past sessions of their queues
    floor.el.querySelector(".supervisor__stepin")?.append(history.el);
    conn.on("state", floor.onState);
    conn.on("push", floor.onPush);
    conn.on("connected", floor.onConnected);
    conn.on("refused", ({ message }) => {
      stop();
      forgetCredential();
      showSignIn(message);
    });
    running = {
      stop() {
        conn.stop();
        notice.destroy();
        history.destroy();
        floor.destroy();
      },
    };
    root.replaceChildren(floor.el);
    document.title = `Supervisor · ${TITLE}`;
    conn.start();
  }

  function start(credential, getToken, firstToken) {
    if (peekClaims(firstToken)?.role === "supervisor") return startSupervisor(credential, getToken, firstToken);
    const store = createStore();
    const conn = createConnection({ getToken, firstToken });
    const notice = createNotice();
    const actions = createActions({ conn, store, notify: notice.say });
    const apply = createSync({ store, actions, notify: notice.say });
    const calls = createCalls({ conn, store, notify: notice.say });
    const cobrowse = createCobrowse({ conn, store, notify: notice.say });
    const transfers = createTransfers({ conn, notify: notice.say });
    const leaving = createSignOutDialog({ conn, store, onSignedOut: signOut });
    const workspace = createWorkspace({
      config,
      store,
      actions,
      calls,
      cobrowse,
      transfers,
      notice,
      provisionalName: provisionalName(config, credential),
      onSignOut: () => leaving.ask(),
    });

    // files and read receipts in the conversation, history in the context column
    const files = createConsoleFiles({ conn, store, root: workspace.el, getToken });
    const history = createHistory({ conn, store });
    workspace.el.querySelector(".col--context")?.append(history.el);

    const updateTitle = () => {
      document.title = titleText(TITLE, store.totalUnread(), store.queueTotal); // views/alerts.js
    };
    const onVisible = () => {
      if (document.visibilityState === "visible" && store.selectedId) store.markRead(store.selectedId);
    };
    document.addEventListener("visibilitychange", onVisible);
    store.on("sessions", updateTitle);
    store.on("queue", updateTitle);

    conn.on("state", (state) => store.setConnection(state));
    conn.on("push", apply);
    conn.on("push", calls.onPush); // after apply: a handoff's session is held by then
    conn.on("push", cobrowse.onPush);
    conn.on("push", transfers.onPush);
    conn.on("push", (name, data) => {
      if (name !== Event.AGENT_SIGNED_OUT) return;
      const by = data && data.by && typeof data.by.name === "string" ? data.by.name : "A supervisor";
      stop();
      forgetCredential();
      forgetPresence();
      showSignIn(`${by} signed you out. Your chats went back to the queue for another agent.`);
    });
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
        files.destroy();
        history.destroy();
        workspace.destroy();
        leaving.destroy();
        calls.destroy();
        cobrowse.destroy();
        transfers.destroy();
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
