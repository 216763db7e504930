// Work orders in the console: an order's timeline on the case page; the supervisor's board (overdue orders,
// team figures, follow-up reviews) redrawn every 30 s and on overdue alerts, with manual re-dispatch.
(function () {
  const api = window.consoleApi;
  const $ = id => document.getElementById(id);

  function say(text) { const n = $("board-note") || $("message"); if (n) n.textContent = text; }
  async function call(url, body) {  // GET, or POST with a body; a refusal is said here and thrown
    try { return await api.call(body === undefined ? "GET" : "POST", url, body); }
    catch (e) { say(e.message); throw e; }
  }
  function row(cells, cls) {
    const tr = document.createElement("tr"); if (cls) tr.className = cls;
    cells.forEach(c => {
      const td = document.createElement("td");
      if (c instanceof Node) td.appendChild(c); else td.textContent = c === null || c === undefined ? "—" : c;
      tr.appendChild(td);
    });
    return tr;
  }
  function fill(tbody, items, cells, empty, span) {
    tbody.textContent = "";
    if (!items.length) { const tr = row([empty], "empty"); tr.firstChild.colSpan = span; tbody.appendChild(tr); }
    items.forEach(i => tbody.appendChild(cells(i)));
  }

  // Case page: 进度 shows the order's history under it (who, from where, which change, note).
  document.addEventListener("click", async e => {
    const b = e.target.closest("button.order-progress"); if (!b) return;
    const li = b.closest("li"); const open = li.querySelector("ol.order-timeline");
    if (open) { open.remove(); return; }
    const o = await call(`/console/api/orders/${encodeURIComponent(b.dataset.number)}`);
    const ol = document.createElement("ol"); ol.className = "order-timeline";
    o.timeline.forEach(ev => {
      const item = document.createElement("li");
      const change = ev.from_label && ev.from_label !== ev.status_label ? `${ev.from_label} → ${ev.status_label}` : ev.status_label;
      item.textContent = `${ev.at} ${ev.who}（${ev.source_label}）${ev.kind_label}：${change}` + (ev.note ? ` · ${ev.note}` : "");
      ol.appendChild(item);
    });
    li.appendChild(ol);
  });

  const board = $("supervision"); if (!board) return;
  function redispatchButton(o) {
    if (!o.team_id) return "";
    const b = document.createElement("button"); b.className = "redispatch"; b.textContent = "改派";
    b.dataset.number = o.number; b.dataset.team = o.team_id; return b;
  }
  async function refresh() {
    if (!$("redispatch").classList.contains("hidden")) return; // not while a re-dispatch is being chosen
    const d = await call("/console/api/supervision");
    $("board-updated").textContent = d.updated;
    fill($("overdue"), d.overdue, o => {
      const tr = row([o.number, o.service, o.team, o.assignee, o.due_at + o.step, o.late, o.stage_label, redispatchButton(o)],
                     "stage-" + o.stage);
      tr.dataset.number = o.number; return tr;
    }, "暂无超时或预警工单", 8);
    fill($("figures"), d.figures, f => row([f.team, f.open, f.warned, f.overdue, f.done_in_time, f.done_late, f.surveys,
                                            f.answered, f.mean_score]), "暂无班组", 9);
    fill($("review"), d.review, r => row([r.number, r.service, r.score, r.team, r.answered_at]), "暂无待复核的回访", 5);
  }
  board.addEventListener("click", async e => {
    const b = e.target.closest("button.redispatch"); if (!b) return;
    const d = await call(`/console/api/teams/${b.dataset.team}/members`);
    const select = $("rd-member"); select.textContent = "";
    d.members.forEach(m => {
      const opt = document.createElement("option"); opt.value = m.id;
      opt.textContent = `${m.name}（${m.role_name}${m.leader ? "·班长" : ""}，${m.on_duty ? "在岗" : "不在岗"}，在办${m.load}）`;
      select.appendChild(opt);
    });
    $("rd-number").textContent = b.dataset.number; $("rd-note").value = "";
    $("redispatch").classList.remove("hidden");
  });
  $("rd-cancel").onclick = () => { $("redispatch").classList.add("hidden"); };
  $("redispatch").onsubmit = async e => {
    e.preventDefault();
    const number = $("rd-number").textContent;
    const o = await call(`/console/api/orders/${encodeURIComponent(number)}/dispatch`,
                         {member_id: Number($("rd-member").value), note: $("rd-note").value});
    $("redispatch").classList.add("hidden");
    say(`工单 ${o.number} 已改派给${o.assignee}。`);
    refresh();
  };
  setInterval(() => refresh().catch(() => {}), 30000);
  document.addEventListener("console-message", e => { if (e.detail.type === "order_alert") refresh().catch(() => {}); });
})();
