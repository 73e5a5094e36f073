/* The table of every model of the catalogue: search, filters, sorting and pages over window.MDL_CATALOGUE
   (models.js). Only the rows of the page shown are in the document, so 100,000 models stay quick. Cells are
   set as text, never as markup. The state (search, filters, sort, page) lives in the address's #fragment. */
(function () {
  "use strict";
  const data = window.MDL_CATALOGUE;
  const col = {};
  data.columns.forEach((name, i) => { col[name] = i; });
  const rows = data.rows;
  const numeric = new Set(["r2", "mae", "rmse", "n_train"]);
  const haystack = rows.map((r) => [r[col.model_id], r[col.modelset], r[col.property], r[col.material],
    r[col.family], r[col.descriptor], r[col.unit]].join(" ").toLowerCase());
  const table = document.getElementById("models");
  const body = table.tBodies[0];
  const headers = Array.from(table.tHead.rows[0].cells);
  const shown = headers.map((th) => th.dataset.column);
  const search = document.getElementById("search");
  const selects = Array.from(document.querySelectorAll("select[data-column]"));
  const pageSize = document.getElementById("page-size");
  const state = { q: "", sort: "r2", desc: true, page: 0, filters: {} };
  let matching = [];

  function format(name, value) {
    if (value === null || value === undefined) return "–";
    if (name === "r2") return value.toFixed(3);
    if (name === "mae" || name === "rmse") return Number(value.toPrecision(4)).toString();
    if (name === "n_train") return value.toLocaleString("en");
    return value;
  }

  function fillSelects() {
    for (const select of selects) {
      const values = Array.from(new Set(rows.map((r) => r[col[select.dataset.column]]))).sort();
      for (const value of values) {
        const option = document.createElement("option");
        option.value = option.textContent = value;
        select.appendChild(option);
      }
    }
  }

  function readHash() {
    const params = new URLSearchParams(location.hash.slice(1));
    state.q = params.get("q") || "";
    state.sort = params.get("sort") || "r2";
    state.desc = params.has("sort") ? params.get("desc") === "1" : true;
    state.page = Math.max(0, parseInt(params.get("page") || "1", 10) - 1) || 0;
    state.filters = {};
    for (const select of selects) {
      const value = params.get(select.dataset.column);
      if (value) state.filters[select.dataset.column] = value;
    }
    search.value = state.q;
    for (const select of selects) select.value = state.filters[select.dataset.column] || "";
  }

  function writeHash() {
    const params = new URLSearchParams();
    if (state.q) params.set("q", state.q);
    for (const [name, value] of Object.entries(state.filters)) params.set(name, value);
    if (state.sort !== "r2" || !state.desc) { params.set("sort", state.sort); params.set("desc", state.desc ? "1" : "0"); }
    if (state.page) params.set("page", String(state.page + 1));
    history.replaceState(null, "", params.toString() ? "#" + params.toString() : location.pathname);
  }

  function filter() {
    const words = state.q.toLowerCase().split(/\s+/).filter(Boolean);
    const filters = Object.entries(state.filters).map(([name, value]) => [col[name], value]);
    matching = [];
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i];
      if (filters.some(([c, value]) => r[c] !== value)) continue;
      if (words.some((w) => !haystack[i].includes(w))) continue;
      matching.push(i);
    }
    sort();
  }

  function sort() {
    const c = col[state.sort];
    const sign = state.desc ? -1 : 1;
    const isNumber = numeric.has(state.sort);
    matching.sort((a, b) => {
      const x = rows[a][c], y = rows[b][c];
      if (x === null || y === null) return (x === null) - (y === null);  /* missing numbers last */
      if (x === y) return a - b;
      return (isNumber ? (x < y ? -1 : 1) : String(x).localeCompare(String(y))) * sign;
    });
  }

  function render() {
    const size = parseInt(pageSize.value, 10);
    const pages = Math.max(1, Math.ceil(matching.length / size));
    state.page = Math.min(state.page, pages - 1);
    const start = state.page * size;
    const slice = matching.slice(start, start + size);
    const fragment = document.createDocumentFragment();
    for (const i of slice) {
      const r = rows[i];
      const tr = document.createElement("tr");
      for (const name of shown) {
        const td = document.createElement("td");
        if (numeric.has(name)) td.className = "num";
        if (name === "model_id") {
          const a = document.createElement("a");
          a.href = "models/" + encodeURIComponent(r[col.model_id]) + ".html";
          a.textContent = r[col.model_id];
          td.appendChild(a);
        } else {
          td.textContent = format(name, r[col[name]]);
        }
        tr.appendChild(td);
      }
      fragment.appendChild(tr);
    }
    body.replaceChildren(fragment);
    for (const th of headers) {
      th.setAttribute("aria-sort", th.dataset.column !== state.sort ? "none" : state.desc ? "descending" : "ascending");
    }
    const total = rows.length.toLocaleString("en");
    document.getElementById("status").textContent = matching.length
      ? `${(start + 1).toLocaleString("en")}–${(start + slice.length).toLocaleString("en")} of ` +
        `${matching.length.toLocaleString("en")} matching models (${total} in all)`
      : `no model matches (${total} in all)`;
    document.getElementById("page").textContent = `page ${state.page + 1} of ${pages}`;
    document.getElementById("prev").disabled = state.page === 0;
    document.getElementById("next").disabled = state.page >= pages - 1;
    writeHash();
  }

  search.addEventListener("input", () => { state.q = search.value.trim(); state.page = 0; filter(); render(); });
  for (const select of selects) {
    select.addEventListener("change", () => {
      if (select.value) state.filters[select.dataset.column] = select.value;
      else delete state.filters[select.dataset.column];
      state.page = 0; filter(); render();
    });
  }
  function sortBy(name) {
    state.desc = state.sort === name ? !state.desc : numeric.has(name) && name !== "mae" && name !== "rmse";
    state.sort = name; state.page = 0; sort(); render();
  }
  for (const th of headers) {
    th.addEventListener("click", () => sortBy(th.dataset.column));
    th.addEventListener("keydown", (event) => { if (event.key === "Enter") sortBy(th.dataset.column); });
  }
  pageSize.addEventListener("change", () => { state.page = 0; render(); });
  document.getElementById("prev").addEventListener("click", () => { state.page -= 1; render(); });
  document.getElementById("next").addEventListener("click", () => { state.page += 1; render(); });
  window.addEventListener("hashchange", () => { readHash(); filter(); render(); });

  fillSelects();
  readHash();
  filter();
  render();
})();
