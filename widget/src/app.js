// Wires the parts together: storage, model, transport, chat, view, page views, and the
// events the host page can listen to. Connects lazily: on first open, or at once when a
// conversation is stored (so a reload or navigation resumes it without a click).
import { createEmitter } from "./emitter.js";
import { Event, SessionState } from "./protocol.js";
import { createStorage } from "./storage.js";
import { createSessionModel } from "./session.js";
import { createTransport } from "./transport.js";
import { createChat } from "./chat.js";
import { createView } from "./ui/view.js";
import { watchPages } from "./pageviews.js";
import { createCallHook } from "./callhook.js";
import { createCobrowseHook } from "./cobrowsehook.js";
import { createTranslator, loadTranslator, pickLocale } from "./i18n/index.js";
import { createFiles, installFileUi, FILES_TEXT } from "./files.js";
import { createReceipts } from "./receipts.js";

export function createApp(config) {
  const events = createEmitter();
  const storage = createStorage();
  const model = createSessionModel();
  const transport = createTransport({ server: config.server, tokenUrl: config.tokenUrl });
  let view = null;
  let t = createTranslator("en"); // replaced by the page's language before the UI is made
  const say = (key, vars) => t(key, vars);
  // calls: the call code loads only when a call needs it (callhook.js)
  const calls = createCallHook({
    url: config.callUrl,
    request: (name, payload) => transport.request(name, payload),
    getSessionId: () => model.id,
    getSlot: () => view && view.callSlot,
    getLayer: () => view && view.layer,
    openPanel: () => setOpen(true),
    onChange: () => view && view.render(),
    notice: (text) => model.notice(text),
    say,
    getT: () => t,
    isOpen: () => !!view && view.open,
  });
  // co-browse: the recorder and its UI load only when co-browse needs them (cobrowsehook.js)
  const cobrowse = createCobrowseHook({
    url: config.cobrowseUrl,
    policy: config.cobrowse,
    request: (name, payload) => transport.request(name, payload),
    getSessionId: () => model.id,
    isLive: () => model.state === SessionState.LIVE,
    getSlot: () => view && view.cobrowseSlot,
    getLayer: () => view && view.layer,
    openPanel: () => setOpen(true),
    focusPanel: () => view && view.focusInput(),
    onChange: (state) => {
      if (view) view.render();
      events.emit("cobrowse", state);
    },
    notice: (text) => model.notice(text),
    say,
    getT: () => t,
  });
  // files and read receipts (files.js, receipts.js): made with the view, which they dress
  let receipts = null;
  let offFiles = null;
  const onStarted = (ack) => receipts && receipts.resume(ack.reads);
  const chat = createChat({ transport, model, storage, calls, cobrowse, say, onStarted, onError: (err) => events.emit("error", err) });
  transport.on("push", (name, data) => name === Event.CHAT_READ && receipts && receipts.push(data));
  let stopPages = null;
  let stopped = false;
  let wantOpen = false;

  model.on("state", (session) => {
    cobrowse.session(session);
    events.emit("state", session);
  });
  model.on("reset", () => cobrowse.session(null));
  model.on("message", (m) => events.emit("message", m));

  function setOpen(open, user = false) {
    open = !!open;
    if (stopped) return;
    wantOpen = open;
    if (!view || view.open === open) return;
    view.setOpen(open, user);
    storage.setOpen(open);
    if (open) chat.connect();
    if (open && receipts) receipts.markRead();
    events.emit(open ? "open" : "close");
  }

  const onOnline = () => transport.nudge();

  let starting = false;

  function start() {
    if (stopped || starting) return;
    starting = true;
    const languages = (navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language]) || [];
    loadTranslator(pickLocale(config.locale, languages), config.localeUrls).then((translator) => {
      t = translator;
      begin();
    });
  }

  function begin() {
    if (stopped) return;
    view = createView({ title: config.title || t("title"), theme: config.theme, t, model, chat, calls, cobrowse, onToggle: setOpen });
    const ft = t.with(FILES_TEXT);
    const files = createFiles({ server: config.server, tokenUrl: config.tokenUrl, request: transport.request, model, t: ft });
    receipts = createReceipts({ request: transport.request, model, t: ft, isOpen: () => !!view && view.open, getLayer: () => view && view.layer });
    offFiles = installFileUi({ view, files, receipts, model });
    chat.restorePending();
    const remembered = storage.wasOpen();
    const open = wantOpen || (remembered === null ? config.open : remembered);
    if (open) setOpen(true);
    else if (storage.sessionId() || model.pending.size) chat.connect();
    stopPages = watchPages(() => chat.pageView());
    window.addEventListener("online", onOnline);
  }

  return {
    events,
    start,
    setOpen,
    isOpen: () => (view ? view.open : wantOpen),
    send: (text) => chat.send(text),
    cobrowse,
    getState: () => (stopped ? null : model.session),
    shutdown() {
      if (stopped) return;
      stopped = true;
      cobrowse.shutdown(); // tells the agent (cobrowse.stop) before the connection goes
      chat.stop();
      if (stopPages) stopPages();
      window.removeEventListener("online", onOnline);
      if (offFiles) offFiles();
      if (view) view.destroy();
      view = null;
      events.clear();
    },
  };
}
