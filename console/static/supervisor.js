// The supervisor's live view (supervisor.html): redrawn from GET /console/api/supervisor/live every 5 s and soon
// after any queue change on the console socket; waits and times in status tick every second in between.
(function () {
  const root = document.getElementById("live"); if (!root) return;
  const $ = id => document.getElementById(id);
  const SOURCES = {
    turn_analytics: "按分析库（turn_analytics）统计",
    tracker: "按机器人对话记录（对话存储）统计：分析库今天没有数据",
  };
  let fetchedAt = Date.now();
  let pending = null;

  function dash(v, fmt) { return v === null || v === undefined ? "—" : fmt(v); }
  function pct(v) { return dash(v, x => (Math.round(x * 1000) / 10).toFixed(1) + "%"); }
  function dur(s) {
    return dash(s, x => {
      x = Math.max(0, Math.floor(x));
      const h = Math.floor(x / 3600), m = Math.floor((x % 3600) / 60), sec = x % 60;
      return h ? `${h}小时${m}分` : (m ? `${m}分${sec}秒` : `${sec}秒`);
    });
  }
  function cell(text, cls) { const td = document.createElement("td"); td.textContent = text; if (cls) td.className = cls; return td; }
  function ticking(seconds, cls) {  // a cell whose seconds go on counting until the next redraw
    const td = cell(dur(seconds), cls);
    if (seconds !== null && seconds !== undefined) { td.dataset.base = seconds; td.classList.add("tick"); }
    return td;
  }
  function fill(tbody, rows, cols, emptyText) {
    tbody.textContent = "";
    if (!rows.length) { const tr = document.createElement("tr"); tr.className = "empty"; tr.appendChild(cell(emptyText)).colSpan = cols; tbody.appendChild(tr); }
    rows.forEach(tr => tbody.appendChild(tr));
  }
  function setTile(id, value, small, title) {
    $(id).textContent = value; $(id + "-n").textContent = small || "";
    if (title) $(id + "-tile").title = title;
  }

  function draw(d) {
    fetchedAt = Date.now();
    const s = d.service, b = d.bot;
    setTile("m-service-level", pct(s.service_level), s.answered ? `${s.answered_within_target}/${s.answered} 个在${s.target_seconds}秒内接通` : "今天还没有接入");
    setTile("m-abandon", pct(s.abandon_rate), s.abandoned || s.abandon_rate !== null ? `放弃 ${s.abandoned} 个` : "今天还没有转人工");
    setTile("m-handle", dur(s.handle_seconds), s.handled ? `今天结束 ${s.handled} 个` : "今天还没有结束的会话");
    setTile("m-wait", dur(s.wait_seconds), s.answered ? `今天接入 ${s.answered} 个` : "今天还没有接入");
    const source = b.source ? SOURCES[b.source] : "今天还没有机器人对话记录";
    setTile("m-containment", pct(b.containment), b.conversations ? `${b.conversations}个会话中${b.contained}个没有转人工` : "今天还没有会话",
            `今天的会话中，由机器人服务完、没有转人工的比例（转了人工但没等到坐席的，算在放弃率里）。会话数${source}，加上今天转人工的会话。`);
    setTile("m-fallback", pct(b.fallback_rate), b.turns ? `${b.turns}句中${b.fallbacks}句没能识别` : "今天还没有客户发言",
            `今天客户说的话中，机器人没能识别意图（兜底回复）的比例。${source}。`);

    fill($("queue-by-skill").tBodies[0], d.queue.map(q => {
      const tr = document.createElement("tr"); tr.dataset.skill = q.skill;
      tr.append(cell(q.name), cell(String(q.waiting), "num"), ticking(q.longest_wait_seconds, "num wait"));
      if (q.longest_wait_seconds !== null && q.longest_wait_seconds > 60) tr.lastChild.classList.add("waiting-long");
      return tr;
    }), 3, "没有技能组");

    const counts = $("status-counts"); counts.textContent = "";
    d.status_counts.forEach(c => {
      const span = document.createElement("span"); span.className = "status-chip " + c.status; span.dataset.status = c.status;
      span.textContent = `${c.label} ${c.count}`; counts.appendChild(span);
    });
    fill($("agents").tBodies[0], d.agents.map(a => {
      const tr = document.createElement("tr"); tr.dataset.agent = a.agent;
      const st = cell(""); const chip = document.createElement("span"); chip.className = "status-chip " + a.status;
      chip.textContent = a.label; st.appendChild(chip);
      const cases = cell(a.cases.length ? "" : "无");
      a.cases.forEach(id => {
        const link = document.createElement("a"); link.href = "/console/cases/" + id; link.className = "monitor";
        link.textContent = `#${id} 监听`; link.title = "打开会话实时监听，可提示坐席或接管"; cases.appendChild(link);
      });
      tr.append(cell(`${a.name}（${a.agent}）`), st, ticking(a.seconds, "num"), cases);
      return tr;
    }), 4, "还没有坐席账号");

    fill($("per-agent").tBodies[0], d.per_agent.map(a => {
      const tr = document.createElement("tr"); tr.dataset.agent = a.agent;
      const rating = a.rating === null ? "—" : `${a.rating.toFixed(1)}分（${a.ratings}条评价）`;
      tr.append(cell(`${a.name}（${a.agent}${a.supervisor ? "，班长" : ""}）`), cell(String(a.handled), "num"),
                cell(dur(a.handle_total_seconds), "num"), cell(dur(a.handle_seconds), "num"), cell(rating, "num"));
      return tr;
    }), 5, "今天还没有坐席工作记录");
    fill($("reasons").tBodies[0], d.reasons.map(r => {
      const tr = document.createElement("tr"); tr.dataset.reason = r.reason;
      tr.append(cell(r.label), cell(String(r.count), "num"));
      return tr;
    }), 2, "今天还没有转人工");
    const at = new Date(d.now);
    $("live-updated").textContent = `更新于 ${at.toLocaleTimeString("zh-CN", {hour12: false})}，每5秒自动刷新`;
  }

  function tick() {
    const extra = (Date.now() - fetchedAt) / 1000;
    root.querySelectorAll("td.tick").forEach(td => { td.textContent = dur(Number(td.dataset.base) + extra); });
  }
  async function refresh() {
    try {
      const r = await fetch("/console/api/supervisor/live", {headers: {Accept: "application/json"}});
      if (r.status === 401) { $("live-updated").textContent = "登录已过期，请重新登录。"; return; }
      if (!r.ok) { $("live-updated").textContent = "暂时没能刷新，稍后会自动重试。"; return; }
      draw(await r.json());
    } catch (e) { $("live-updated").textContent = "网络中断，恢复后会自动刷新。"; }
  }
  function soon() { clearTimeout(pending); pending = setTimeout(refresh, 400); }
  document.addEventListener("console-message", e => {
    if (["queue", "case", "new_case", "presence", "agent_status"].includes(e.detail.type)) soon();
  });
  refresh(); setInterval(refresh, 5000); setInterval(tick, 1000);
})();
