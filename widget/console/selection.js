// After a reload the console shows the session that was open (the one on the call, say),
// not whichever handoff happens to arrive first: the selected id is kept in sessionStorage
// (this tab only), and once the agent's sessions are back it is selected again, or
// forgotten when the agent no longer holds it.
const KEY = "dcs.console.selected";

function read() {
  try {
    return sessionStorage.getItem(KEY);
  } catch {
    return null;
  }
}

function write(id) {
  try {
    if (id) sessionStorage.setItem(KEY, id);
  } catch {
    // not remembered then
  }
}

export function rememberSelection(store) {
  let wanted = read(); // to select again once it is back; meanwhile other selections are not saved

  function restore() {
    if (!wanted) return;
    if (store.holds(wanted)) {
      const id = wanted;
      wanted = null;
      store.select(id);
    } else if (store.agent && Array.isArray(store.agent.sessions) && !store.agent.sessions.includes(wanted)) {
      wanted = null; // ended, handed on, or another agent's tab
    }
  }

  const offs = [
    store.on("sessions", restore),
    store.on("agent", restore),
    store.on("selected", (id) => {
      if (!wanted) write(id);
    }),
  ];
  return {
    stop() {
      offs.forEach((off) => off());
    },
  };
}
