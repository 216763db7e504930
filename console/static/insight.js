// Customer insight (insight.html): the hot-spot ranking of the latest run from /console/api/insight/hotspots, its
// charts (insight/charts.py specs, drawn by vega-embed), the drill-down of one line / 台区 / area (its 台区 or lines,
// outages, contacts, work orders, each paged) and the customer profile opened by 户号.
(function () {
  const form = document.getElementById("hotspot-form"); if (!form) return;
  const $ = id => document.getElementById(id);
  const api = window.consoleApi;
  const SIZE = 20, DRILL_SIZE = 10;
  const state = {page: 1, drill: null, pages: {outages: 1, contacts: 1, orders: 1}};

  function cell(text, cls) { return api.el("td", text === null || text === undefined ? "" : String(text), cls); }
  function emptyRow(table, text, cols) {
    const tr = api.el("tr", "", "empty"); const td = cell(text); td.colSpan = cols; tr.appendChild(td);
    table.tBodies[0].appendChild(tr);
  }
  function draw(id, spec) {
    const el = $(id); if (!el) return;
    if (!spec) { el.textContent = ""; el.dataset.drawn = ""; return; }
    if (!window.vegaEmbed) { el.textContent = "图表组件没有加载，请刷新页面。"; return; }
    el.dataset.empty = spec.usermeta && spec.usermeta.empty ? "1" : "";
    window.vegaEmbed(el, spec, {actions: false, renderer: "svg"}).then(() => { el.dataset.drawn = "1"; })
      .catch(() => { el.textContent = "图表暂时无法显示。"; });
  }
  function qValue(q) { return q < 0.001 ? "<0.001" : q.toFixed(3); }
  const SIGNIFICANT = "扣除规模因素后仍明显偏多（已控制误报）";
  const EMPTY = {outages: "该范围内暂无停电记录。", contacts: "该范围内暂无联系记录。", orders: "该范围内暂无工单。"};
  // a quarter-by-quarter sparkline as a small inline SVG (no chart library for one line per row); a quarter the
  // window covers only partly (its label says so, e.g. 2026Q4（至11月）) is a hollow dot
  function sparkline(trend) {
    const ns = "http://www.w3.org/2000/svg", w = 90, h = 22;
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("width", w); svg.setAttribute("height", h); svg.setAttribute("class", "spark");
    const counts = trend.map(t => t.count);
    svg.setAttribute("aria-label", trend.map(t => `${t.label || t.quarter} ${t.count}次`).join("，"));
    if (counts.length < 2) return svg;
    const max = Math.max(1, ...counts), step = (w - 6) / (counts.length - 1);
    const xy = counts.map((c, i) => [3 + i * step, h - 3 - (c / max) * (h - 6)]);
    const line = document.createElementNS(ns, "polyline");
    line.setAttribute("points", xy.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(" "));
    line.setAttribute("fill", "none"); line.setAttribute("stroke", "#1f5fa8"); line.setAttribute("stroke-width", "1.5");
    svg.appendChild(line);
    trend.forEach((t, i) => {
      if (!t.partial) return;
      const dot = document.createElementNS(ns, "circle");
      dot.setAttribute("cx", xy[i][0].toFixed(1)); dot.setAttribute("cy", xy[i][1].toFixed(1)); dot.setAttribute("r", "2.2");
      dot.setAttribute("fill", "#fff"); dot.setAttribute("stroke", "#1f5fa8"); dot.setAttribute("class", "partial");
      svg.appendChild(dot);
    });
    const title = document.createElementNS(ns, "title"); title.textContent = svg.getAttribute("aria-label"); svg.appendChild(title);
    return svg;
  }
  function pager(box, page, total, size, go) {
    box.textContent = "";
    const pages = Math.max(1, Math.ceil(total / size));
    const prev = api.el("button", "上一页"); prev.type = "button"; prev.disabled = page <= 1; prev.className = "prev";
    const next = api.el("button", "下一页"); next.type = "button"; next.disabled = page >= pages; next.className = "next";
    prev.addEventListener("click", () => go(page - 1)); next.addEventListener("click", () => go(page + 1));
    box.append(prev, api.el("span", `第 ${page} / ${pages} 页，共 ${total} 条`, "muted page-info"), next);
  }

  async function loadHotspots() {
    const q = new URLSearchParams(new FormData(form)); q.set("page", state.page); q.set("size", SIZE);
    $("hotspot-status").textContent = "正在查询…"; $("hotspot-status").className = "muted";
    const r = await api.attempt("GET", "/console/api/insight/hotspots?" + q.toString());
    const table = $("hotspots"); table.tBodies[0].textContent = "";
    table.classList.remove("hidden");
    if (!r.ok) { $("hotspot-status").textContent = r.error; $("hotspot-status").className = "error-text"; return; }
    $("hotspot-status").textContent = "";
    const d = r.data;
    if (!d.run) {
      $("run-info").textContent = d.message; $("run-info").className = "no-run";
      table.classList.add("hidden"); $("hotspot-pager").textContent = "";
      draw("chart-ranking", null); draw("chart-trends", null); return;
    }
    $("run-info").className = "muted";
    $("run-info").textContent = `最近一次分析：截至 ${d.run.period} 账期，${d.run.finished_at} 完成`;
    const tiles = $("summary"); tiles.textContent = "";
    d.summary.forEach(x => {
      const t = document.createElement("div"); t.dataset.kind = `${x.level}-${x.measure}`; t.className = "pick";
      t.title = `查看${x.label}排名`;
      t.addEventListener("click", () => { form.level.value = x.level; form.measure.value = x.measure; state.page = 1; loadHotspots(); });
      t.append(api.el("b", String(x.significant)), api.el("span", `${x.label}显著偏高`), api.el("small", `共 ${x.ranked} 条`));
      tiles.appendChild(t);
    });
    table.classList.toggle("area-level", d.level === "area");  // an area's own name, not twice
    if (!d.rows.length) emptyRow(table, d.message || "没有符合条件的结果。", 11);
    d.rows.forEach(h => {
      const tr = document.createElement("tr"); tr.dataset.code = h.code; tr.className = h.significant ? "significant" : "";
      const spark = cell(""); spark.appendChild(sparkline(h.trend));
      const open = cell(""); const b = api.el("button", "查看明细", "drill-open"); b.type = "button";
      b.addEventListener("click", () => openDrill(h.level, h.code)); open.appendChild(b);
      const sig = cell(h.significant ? "显著偏高" : "—", h.significant ? "sig" : "muted");
      sig.title = `${h.significant ? SIGNIFICANT : "未显著偏高"}。q 值 ${qValue(h.q_value)}`;
      tr.append(cell(h.rank, "num"), cell(h.name, "name"), cell(h.area_name, "col-area"), cell(h.size, "num"),
        cell(h.observed, "num"), cell(h.expected.toFixed(1), "num"), cell(`${h.rate_ratio.toFixed(1)}倍`, "num ratio"), sig,
        spark, cell(h.suggestion || "", "suggestion"), open);
      table.tBodies[0].appendChild(tr);
    });
    pager($("hotspot-pager"), state.page, d.total, SIZE, p => { state.page = p; loadHotspots(); });
    draw("chart-ranking", d.charts.ranking); draw("chart-trends", d.charts.trends);
  }

  async function openDrill(level, code) {
    state.drill = {level, code}; state.pages = {outages: 1, contacts: 1, orders: 1};
    $("contact-function").value = form.measure.value === "complaints" ? "complaints" : "";
    const box = $("drill"); box.classList.remove("hidden");
    $("drill-title").textContent = "正在读取…"; $("drill-info").textContent = "";
    const r = await api.attempt("GET", `/console/api/insight/${level}/${encodeURIComponent(code)}`);
    if (!r.ok) { $("drill-title").textContent = r.error; return; }
    const d = r.data, s = d.scope;
    $("drill-title").textContent = `${d.level_name}明细：${s.name}（${s.code}）`;
    const parts = ["faults", "complaints"].filter(k => d.hotspots[k]).map(k => d.hotspots[k])
      .map(h => `${h.measure === "faults" ? "故障" : "投诉"}第${h.rank}名，实际${h.observed}次，预期${h.expected.toFixed(1)}次`);
    const advice = ["faults", "complaints"].map(k => d.hotspots[k] && d.hotspots[k].suggestion).find(Boolean);
    if (advice) parts.push(`建议：${advice}`);
    if (d.window) parts.unshift(`统计区间 ${d.window.first} 至 ${d.window.last}（下列停电和联系记录同此区间）`);
    if (d.message) parts.push(d.message);
    $("drill-info").textContent = parts.join("；");
    const kids = $("drill-children"); kids.tBodies[0].textContent = "";
    $("drill-children-box").classList.toggle("hidden", !d.child_level);
    $("drill-children-title").textContent = d.child_level ? `下属${d.child_name}` : "";
    if (d.child_level && !d.children.length) emptyRow(kids, d.message || `没有下属${d.child_name}。`, 6);
    d.children.forEach(k => {
      const f = k.hotspots.faults, c = k.hotspots.complaints;
      const tr = document.createElement("tr"); tr.dataset.code = k.code;
      if ((f && f.significant) || (c && c.significant)) tr.className = "significant";
      const open = cell(""); const b = api.el("button", "查看", "drill-open"); b.type = "button";
      b.addEventListener("click", () => openDrill(d.child_level, k.code)); open.appendChild(b);
      tr.append(cell(k.code), cell(k.name), cell(k.size, "num"), cell(f ? `${f.observed} / ${f.expected.toFixed(1)}` : "—", "num"),
        cell(c ? `${c.observed} / ${c.expected.toFixed(1)}` : "—", "num"), open);
      kids.tBodies[0].appendChild(tr);
    });
    await Promise.all(["outages", "contacts", "orders"].map(loadList));
    box.scrollIntoView({behavior: "smooth", block: "start"});
  }

  const COLUMNS = {
    outages: o => [o.id, o.kind, o.whole_line ? `整条线路 ${o.line_code}` : `台区 ${o.tq_code}`, o.started_at, [o.duration_min, "num"]],
    contacts: c => [c.started_at, c.account, c.channel, c.function_name],
    orders: o => [o.number, o.function, o.status, o.created_at, o.tq_code, o.account, o.summary],
  };
  async function loadList(what) {
    if (!state.drill) return;
    const {level, code} = state.drill;
    const q = new URLSearchParams({page: state.pages[what], size: DRILL_SIZE});
    if (what === "outages") q.set("kind", $("outage-kind").value);
    if (what === "contacts" && $("contact-function").value) q.set("function", $("contact-function").value);
    const r = await api.attempt("GET", `/console/api/insight/${level}/${encodeURIComponent(code)}/${what}?${q}`);
    const table = document.querySelector(`table[data-list="${what}"]`); table.tBodies[0].textContent = "";
    const cols = table.tHead.rows[0].cells.length, box = document.querySelector(`[data-pager="${what}"]`);
    if (!r.ok) { emptyRow(table, r.error, cols); box.textContent = ""; return; }
    if (!r.data.items.length) emptyRow(table, r.data.message || EMPTY[what], cols);
    r.data.items.forEach(item => {
      const tr = document.createElement("tr");
      COLUMNS[what](item).forEach(v => tr.appendChild(Array.isArray(v) ? cell(v[0], v[1]) : cell(v)));
      table.tBodies[0].appendChild(tr);
    });
    pager(box, state.pages[what], r.data.total, DRILL_SIZE, p => { state.pages[what] = p; loadList(what); });
  }

  // the 户号 is checked first (format here, then whether the history holds it), so a wrong one is said on this
  // page instead of opening a tab with an error
  async function openProfile(pdf) {
    const input = $("profile-form").account, status = $("profile-status"), account = input.value.trim();
    const refuse = text => { status.textContent = text; status.className = "error-text"; input.focus(); };
    if (!/^\d{10}$/.test(account)) { refuse("请输入10位户号。"); return; }
    status.className = "muted"; status.textContent = "正在查找…";
    const r = await api.attempt("GET", `/console/api/insight/accounts/${account}`);
    if (!r.ok) { refuse(r.error); return; }
    status.textContent = pdf ? "正在生成 PDF，请稍候…" : "已在新窗口打开。";
    window.open(`/console/insight/profile/${account}${pdf ? ".pdf" : ""}`, "_blank", "noopener");
  }

  form.addEventListener("submit", e => { e.preventDefault(); state.page = 1; loadHotspots(); });
  $("outage-kind").addEventListener("change", () => { state.pages.outages = 1; loadList("outages"); });
  $("contact-function").addEventListener("change", () => { state.pages.contacts = 1; loadList("contacts"); });
  $("profile-form").addEventListener("submit", e => { e.preventDefault(); openProfile(false); });
  $("profile-pdf").addEventListener("click", () => openProfile(true));
  loadHotspots();
})();
