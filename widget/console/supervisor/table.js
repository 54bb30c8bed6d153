// A live, sortable, filterable table of wall rows. Rows are DOM elements kept per key and
// updated in place, so a change redraws one row, focus stays where it is, and 500 rows
// stay cheap. Columns: {key, label, text(row, now), sort(row, now)?, cell?(row) -> Node}.
import { h, reconcile, setAttr, setText } from "../dom.js";

export function createTable({ caption, columns, rowActions, rowLabel, part, emptyText, clock = Date.now }) {
  let sortKey = columns[0].key;
  let sortDir = 1;
  let filter = () => true;
  let rows = [];
  let now = clock();
  const els = new Map(); // key -> {tr, cells, actions, row}
  const headers = columns.map((col) => {
    const button = h("button", { type: "button", class: "wall__sort", text: col.label, onclick: () => sortBy(col.key) });
    return h("th", { scope: "col", "aria-sort": "none", "data-col": col.key }, button);
  });
  const tbody = h("tbody");
  const empty = h("p", { class: "wall__empty", text: emptyText, hidden: true });
  const count = h("span", { class: "wall__count" });
  const table = h(
    "table",
    { class: "wall__table", "data-part": part },
    h("caption", {}, h("span", { text: caption }), " ", count),
    h("thead", {}, h("tr", {}, headers, rowActions ? h("th", { scope: "col" }, h("span", { class: "sr-only", text: "Actions" })) : null)),
    tbody,
  );

  function sortBy(key) {
    if (sortKey === key) sortDir = -sortDir;
    else {
      sortKey = key;
      sortDir = 1;
    }
    render();
  }

  function valueOf(row, col) {
    return col.sort ? col.sort(row, now) : col.text(row, now);
  }

  // new buttons for a changed row; the one with keyboard focus hands it to its successor
  // (same data-part), so a row redrawn under a keyboard user does not drop focus to <body>
  function replaceActions(cell, buttons) {
    const active = document.activeElement;
    const had = active && cell.contains(active) ? active.getAttribute("data-part") : null;
    cell.replaceChildren(...buttons);
    if (had === null) return;
    const next = buttons.find((b) => b.getAttribute("data-part") === had) || buttons[0];
    if (next) next.focus();
  }

  function entryFor(row) {
    let entry = els.get(row.key);
    if (!entry) {
      const cells = columns.map((col) => h("td", { "data-col": col.key }));
      const actions = rowActions ? h("td", { class: "wall__actions" }) : null;
      const tr = h("tr", { "data-key": row.key, "data-part": `${part}-row` }, cells, actions);
      entry = { tr, cells, actions, row: null };
      els.set(row.key, entry);
    }
    if (entry.row !== row) {
      entry.row = row;
      if (entry.actions) replaceActions(entry.actions, rowActions(row));
      setAttr(entry.tr, "aria-label", rowLabel ? rowLabel(row) : null);
    }
    columns.forEach((col, i) => setText(entry.cells[i], col.text(row, now)));
    return entry;
  }

  function render() {
    now = clock();
    const col = columns.find((c) => c.key === sortKey) || columns[0];
    const shown = rows.filter(filter);
    shown.sort((a, b) => {
      const x = valueOf(a, col);
      const y = valueOf(b, col);
      if (x === y) return a.key < b.key ? -1 : 1;
      if (x == null || x === "") return 1;
      if (y == null || y === "") return -1;
      return (x < y ? -1 : 1) * sortDir;
    });
    const keep = new Set(rows.map((r) => r.key));
    for (const key of [...els.keys()]) if (!keep.has(key)) els.delete(key);
    reconcile(tbody, shown.map((row) => entryFor(row).tr));
    headers.forEach((th) => setAttr(th, "aria-sort", th.dataset.col === sortKey ? (sortDir > 0 ? "ascending" : "descending") : "none"));
    setText(count, `(${shown.length}${shown.length !== rows.length ? ` of ${rows.length}` : ""})`);
    empty.hidden = shown.length > 0;
  }

  // the clock moved: durations only, no re-sort (rows would jump under the pointer)
  function tick() {
    now = clock();
    for (const entry of els.values()) {
      if (!entry.tr.isConnected) continue;
      columns.forEach((col, i) => {
        if (col.ticks) setText(entry.cells[i], col.text(entry.row, now));
      });
    }
  }

  return {
    el: h("div", { class: "wall__block" }, table, empty),
    setRows(next) {
      rows = next;
      render();
    },
    setFilter(fn) {
      filter = fn;
      render();
    },
    tick,
  };
}
