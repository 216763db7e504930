// Suspected outages on the supervisor view (_incidents.html): the open incidents with their areas, counts
// against what is usual and what callers said; confirm (a fault outage is recorded with the cause and expected
// restoration the supervisor gives: customers are told exactly these) or dismiss, with a note.
// Redrawn every 30 s and at once when the notification interface pushes an incident alert on the socket.
(function () {
  const list = document.getElementById("incident-list"); if (!list) return;
  const error = document.getElementById("incidents-error");
  const api = window.consoleApi;
  const REASON = "故障抢修中", HOURS = [1, 2, 3, 4, 6, 8];

  function el(tag, text, cls) { const e = document.createElement(tag); if (text) e.textContent = text; if (cls) e.className = cls; return e; }

  function item(i) {
    const li = el("li", "", "incident");
    li.appendChild(el("b", `${i.title}（${i.opened_at}起）`));
    const w = i.window_minutes;
    const areas = i.areas.map(a => `${a.name}：近${w}分钟${a.count}通，${w}分钟峰值${a.peak}通，通常约${a.expected}通`).join("；");
    li.appendChild(el("div", `${areas}。累计停电来电${i.contacts}通。`));
    if (i.samples.length) li.appendChild(el("div", "客户原话：" + i.samples.map(t => `“${t}”`).join(" "), "muted"));
    // confirming tells customers the cause and the expected restoration: both come from the supervisor
    const reason = el("input", "", "reason"); reason.value = REASON; reason.maxLength = 60; reason.title = "停电原因（客户会听到）";
    const reasonLabel = el("label", "原因 "); reasonLabel.appendChild(reason);
    const hours = el("select", "", "hours"); hours.title = "预计恢复";
    hours.appendChild(new Option("请选择", ""));
    HOURS.forEach(h => hours.appendChild(new Option(`约${h}小时后`, String(h))));
    const hoursLabel = el("label", "预计恢复 "); hoursLabel.appendChild(hours);
    const note = el("input", "", "note"); note.placeholder = "备注（可选）"; note.maxLength = 300;
    const confirm = el("button", "确认停电", "confirm"), dismiss = el("button", "排除", "dismiss");
    confirm.onclick = () => {
      if (!reason.value.trim()) { error.textContent = "请填写停电原因，客户会听到这句话。"; reason.focus(); return; }
      if (!hours.value) { error.textContent = "请选择预计恢复时间。"; hours.focus(); return; }
      decide(i.id, "confirm", {note: note.value, reason: reason.value.trim(), hours: Number(hours.value)});
    };
    dismiss.onclick = () => decide(i.id, "dismiss", {note: note.value});
    const row = el("div", "", "actions"); row.append(reasonLabel, hoursLabel, note, confirm, dismiss); li.appendChild(row);
    return li;
  }

  async function load() {
    const typing = document.activeElement;  // a supervisor filling in a decision is not interrupted by the redraw
    if (typing && list.contains(typing) && typing.matches("input, select")) return;
    const r = await api.attempt("GET", "/console/api/incidents");
    if (!r.ok) { error.textContent = r.error; return; }
    error.textContent = "";
    list.textContent = "";
    if (!r.data.incidents.length) list.appendChild(el("li", "目前没有待核实的疑似停电", "empty"));
    r.data.incidents.forEach(i => list.appendChild(item(i)));
  }

  async function decide(id, what, body) {
    const r = await api.attempt("POST", `/console/api/incidents/${id}/${what}`, body);
    error.textContent = r.ok ? "" : r.error;
    load();
  }

  document.addEventListener("console-message", ev => {
    const m = ev.detail || {};
    if (m.type === "notice_alert" && m.kind === "incident_alert") load();
  });
  load();
  setInterval(load, 30000);
})();
