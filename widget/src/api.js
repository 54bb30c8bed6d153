// window.DCS: the host page's handle on the widget.
//   open() close() toggle() send(text) getState() shutdown()
//   on(event, fn) -> unsubscribe, off(event, fn); events: state, message, open, close, error,
//   cobrowse ("idle" | "requested" | "active")
//   cobrowse.share() -> Promise<bool>: share this page with the agent (a live session only)
//   cobrowse.stop() -> Promise: stop sharing at once; cobrowse.state
export function createApi(app) {
  const api = {
    open: () => app.setOpen(true),
    close: () => app.setOpen(false),
    toggle: () => app.setOpen(!app.isOpen()),
    on: (name, fn) => app.events.on(name, fn),
    off: (name, fn) => app.events.off(name, fn),
    send: (text) => app.send(text),
    getState: () => app.getState(),
    shutdown: () => app.shutdown(),
    cobrowse: Object.freeze({
      share: () => app.cobrowse.share(),
      stop: () => app.cobrowse.stop().then(() => undefined),
      get state() {
        return app.cobrowse.state;
      },
    }),
  };
  Object.defineProperty(api, "__dcs", { value: true });
  return api;
}
