// Single-page apps change the URL without a load: watch history.pushState/replaceState
// and popstate, and report the new page (once the title had a moment to change).
export function watchPages(onChange) {
  let timer = 0;
  const changed = () => {
    clearTimeout(timer);
    timer = setTimeout(onChange, 300);
  };
  const restore = ["pushState", "replaceState"].map((name) => {
    const original = history[name];
    if (typeof original !== "function") return () => {};
    const wrapped = function (...args) {
      const result = original.apply(this, args);
      changed();
      return result;
    };
    history[name] = wrapped;
    return () => {
      if (history[name] === wrapped) history[name] = original;
    };
  });
  window.addEventListener("popstate", changed);
  return () => {
    clearTimeout(timer);
    restore.forEach((undo) => undo());
    window.removeEventListener("popstate", changed);
  };
}
