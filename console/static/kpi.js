// The supervisor's KPI dashboard (kpi.html): the period's KPIs and charts from GET /console/api/kpi, the live panel
// (实时话务, incidents, alerts) every 15 s from /console/api/kpi/live, the 24 h forecast from /console/api/kpi/forecast.
// Charts are the server's Vega-Lite specs (analytics/charts.py), drawn by vega-embed (served at /console/kpi/vega.js).
(function () {
  const form = document.getElementById("kpi-range"); if (!form) return;
  const $ = id => document.getElementById(id);
  const api = window.consoleApi;
  const NAMES = {contacts: "会话量", containment: "机器人独立服务率", transfer_rate: "转人工率", fallback_rate: "机器人未识别率",
    handle_seconds: "平均处理时长", wait_seconds: "平均应答等待", abandon_rate: "放弃率", service_level: "服务水平", satisfaction: "满意度"};
  const RATES = ["containment", "transfer_rate", "fallback_rate", "abandon_rate", "service_level"];

  function shown(k, v) {
    if (v === null || v === undefined) return "—";
    if (k === "contacts") return v.toLocaleString("zh-CN");
    if (RATES.includes(k)) return (v * 100).toFixed(1) + "%";
    if (k === "satisfaction") return v.toFixed(1) + "分";
    const s = Math.round(v), m = Math.floor(s / 60);
    return m ? `${m}分${s % 60}秒` : `${s}秒`;
  }
  function li(text, cls) { return api.el("li", text, cls); }
  function draw(id, spec) {
    const el = $(id); if (!el) return;
    if (!window.vegaEmbed) { el.textContent = "图表组件没有加载，请刷新页面。"; return; }
    // a chart with nothing to show comes as its title over a 暂无数据 note (analytics/charts.py `note`)
    el.dataset.empty = spec.usermeta && spec.usermeta.empty ? "1" : "";
    window.vegaEmbed(el, spec, {actions: false, renderer: "svg"}).then(() => { el.dataset.drawn = "1"; })
      .catch(() => { el.textContent = "图表暂时无法显示。"; });
  }

  async function loadKpis() {
    const q = new URLSearchParams(new FormData(form));
    $("kpi-status").textContent = "正在查询…"; $("kpi-status").className = "muted";
    const r = await api.attempt("GET", "/console/api/kpi?" + q.toString());
    if (!r.ok) { $("kpi-status").textContent = r.error; $("kpi-status").className = "error-text"; return; }
    const v = r.data.view, t = v.summary.totals;
    $("kpi-status").textContent = ""; $("kpi-range-text").textContent = `${v.range.text}，${v.area_name}`;
    const tiles = $("kpi-tiles"); tiles.textContent = "";
    Object.keys(NAMES).forEach(k => {
      const d = document.createElement("div"); d.dataset.kpi = k;
      d.append(api.el("b", shown(k, t[k])), api.el("span", NAMES[k]));
      tiles.appendChild(d);
    });
    if (!t.contacts) tiles.appendChild(api.el("p", "这个时段没有客户会话记录。", "muted empty-range"));
    Object.entries(r.data.charts).forEach(([name, spec]) => draw("chart-" + name, spec));
  }

  async function loadLive() {
    const r = await api.attempt("GET", "/console/api/kpi/live");
    if (!r.ok) { $("live-at").textContent = r.error; return; }
    const d = r.data, tr = d.traffic;
    $("live-at").textContent = `更新于 ${tr.now}，每15秒刷新`;
    tr.windows.forEach(w => {
      $("t-" + w.minutes).textContent = w.contacts;
      $("t-" + w.minutes + "-ch").textContent = w.by_channel.map(c => `${c.name}${c.contacts}`).join(" ");
    });
    $("t-progress").textContent = tr.in_progress; $("t-waiting").textContent = tr.waiting;
    $("t-agents").textContent = tr.agents_online; $("t-available").textContent = `示闲 ${tr.agents_available}`;
    // 当前停电: fault and planned outages in effect (the CIS's definition) and open suspected outages
    const inc = $("incident-list"); inc.textContent = "";
    if (!d.outages.items.length) inc.appendChild(li("目前没有停电或疑似停电。", "muted"));
    d.outages.items.forEach(o => {
      const when = o.expected_end ? `${o.since}起，预计${o.expected_end}恢复` : `${o.since}起，待班长核实`;
      const more = o.contacts === null ? `（${o.reason}）` : `，相关来电${o.contacts}个`;
      const item = li(`${o.kind_name}　${o.area_names.join("、")}：${when}${more}`, "outage-" + o.kind);
      item.dataset.kind = o.kind; inc.appendChild(item);
    });
    const al = $("alert-list"); al.textContent = "";
    if (!d.recent_alerts.length) al.appendChild(li("各项指标正常，没有告警。", "muted"));
    d.recent_alerts.forEach(a => {
      const item = li(`${a.raised_at} ${a.message}${a.cleared_at ? `（${a.cleared_at} 已恢复）` : ""}`, a.cleared_at ? "cleared" : a.level);
      item.dataset.kpi = a.kpi; al.appendChild(item);
    });
  }

  async function loadForecast() {
    const r = await api.attempt("GET", "/console/api/kpi/forecast");
    if (!r.ok) { $("forecast-method").textContent = r.error; return; }
    const f = r.data.forecast;
    if (!f.available) { $("forecast-method").textContent = f.note; draw("chart-forecast", r.data.chart); return; }
    $("forecast-method").textContent = `${f.method} 平均处理时长${shown("handle_seconds", f.aht_seconds)}${f.aht_measured ? "（实测）" : "（暂无实测，按默认值）"}，转人工比例${(f.escalation_share * 100).toFixed(1)}%。`;
    draw("chart-forecast", r.data.chart);
  }

  form.addEventListener("submit", e => { e.preventDefault(); loadKpis(); });
  loadKpis(); loadLive(); loadForecast();
  setInterval(loadLive, 15000); setInterval(loadForecast, 300000);
})();
