// The queue lists (queue page, supervisor page): redrawn from /console/api/queue into the DOM, never by reloading
// the page (a reload wiped the pop-ups and raced the agent's own clicks); waits tick every second on this clock
// from the server's count; 接入 for a waiting case, and for supervisors 指派 to a named online agent.
(function () {
  const $ = id => document.getElementById(id);
  const waiting = $("waiting");
  const box = $("presence-box");
  const supervisor = !!(box && box.dataset.supervisor);
  let team = [];

  const two = n => String(n).padStart(2, "0");
  function waitText(s) { return `${Math.floor(s / 60)}分${two(s % 60)}秒`; }
  // when each waiting case began, on this browser's clock: the server's whole seconds of waiting are at most a
  // second short, so the earliest estimate is kept and a redraw never makes a wait go back
  const began = {};
  function tick() {
    const now = Date.now();
    document.querySelectorAll(".waited.live").forEach(el => {
      const id = el.closest("[data-case]").dataset.case;
      const estimate = now - Number(el.dataset.seconds) * 1000;
      if (!el.dataset.counted) { began[id] = Math.min(began[id] || estimate, estimate); el.dataset.counted = "1"; }
      el.textContent = waitText(Math.max(0, Math.floor((now - began[id]) / 1000)));
    });
  }
  function say(text) { const n = $("queue-note") || $("message"); if (n) n.textContent = text; }

  const post = (url, body) => window.consoleApi.call("POST", url, body || {});  // a refusal: thrown, then said

  function row(c, action) {
    const li = document.createElement("li"); li.className = "case " + c.priority; li.dataset.case = c.id;
    const a = document.createElement("a"); a.href = "/console/cases/" + c.id;
    a.textContent = `#${c.id} · ${c.channel_name}` + (c.skill_name ? ` · ${c.skill_name}` : "") +
      (c.priority === "urgent" ? " · 紧急" : c.priority === "care" ? " · 优先" : "");
    const s = document.createElement("span"); s.className = "summary"; s.textContent = c.summary;
    const m = document.createElement("span"); m.className = "meta";
    const w = document.createElement("span"); w.className = "waited" + (action === "claim" ? " live" : "");
    w.dataset.seconds = c.waited; w.textContent = waitText(c.waited);
    m.append(`${c.phone || ""} 等待 `, w, c.agent ? ` · ${c.agent}` : "");
    if (action === "claim" && c.on_offer) {
      const tag = document.createElement("span"); tag.className = "tag offering"; tag.textContent = "推送中"; m.append(" ", tag);
    }
    li.append(a, s, m);
    if (action === "claim") {
      const b = document.createElement("button"); b.className = "claim"; b.dataset.case = c.id; b.textContent = "接入";
      const tools = document.createElement("span"); tools.className = "tools"; tools.append(b);
      if (supervisor) tools.append(assignControl(c.id));
      li.appendChild(tools);
    }
    return li;
  }
  function assignControl(caseId) {
    const wrap = document.createElement("span"); wrap.className = "assign";
    const sel = document.createElement("select"); sel.className = "assign-to"; sel.setAttribute("aria-label", "指派给");
    const none = document.createElement("option"); none.value = "";
    const online = team.filter(p => p.online);
    none.textContent = online.length ? "指派给…" : "没有在线坐席"; sel.appendChild(none);
    online.forEach(p => {
      const o = document.createElement("option"); o.value = p.agent;
      o.textContent = `${p.name}（${p.label}，${p.claimed}/${p.max_cases}）`; sel.appendChild(o);
    });
    const b = document.createElement("button"); b.type = "button"; b.className = "assign-go"; b.textContent = "指派";
    b.dataset.case = caseId;
    wrap.append(sel, b);
    return wrap;
  }
  function fill(list, cases, action) {
    if (!list) return;
    list.textContent = "";
    if (!cases.length) { const li = document.createElement("li"); li.className = "empty"; li.textContent = "暂无"; list.appendChild(li); }
    cases.forEach(c => list.appendChild(row(c, action)));
  }
  async function refresh() {
    if (!waiting) return;
    const r = await fetch("/console/api/queue"); if (!r.ok) return;
    const q = await r.json();
    if (supervisor) {
      const t = await fetch("/console/api/team");
      if (t.ok) team = (await t.json()).agents;
    }
    const chosen = {};  // a supervisor's half-made choice survives the redraw
    waiting.querySelectorAll("li[data-case] .assign-to").forEach(sel => { chosen[sel.closest("li").dataset.case] = sel.value; });
    fill(waiting, q.waiting, "claim"); fill($("mine"), q.mine, "open");
    waiting.querySelectorAll("li[data-case] .assign-to").forEach(sel => {
      const was = chosen[sel.closest("li").dataset.case];
      if (was && [...sel.options].some(o => o.value === was)) sel.value = was;
    });
    const n = $("queue-count"); if (n) n.textContent = q.waiting.length;
    tick();
  }
  window.p95598Queue = {refresh};

  document.addEventListener("click", async e => {
    const claim = e.target.closest("button.claim");
    if (claim) {
      claim.disabled = true;
      try { await post(`/console/api/cases/${claim.dataset.case}/claim`); location.href = "/console/cases/" + claim.dataset.case; }
      catch (err) { say(err.message); claim.disabled = false; refresh(); }
      return;
    }
    const go = e.target.closest("button.assign-go");
    if (go) {
      const to = go.parentElement.querySelector("select").value;
      if (!to) { say("请先选择一位在线坐席。"); return; }
      go.disabled = true;
      try { const d = await post(`/console/api/cases/${go.dataset.case}/assign`, {to}); say(`已把 #${d.case} 指派给${d.agent}。`); }
      catch (err) { say(err.message); }
      refresh();
    }
  });
  document.addEventListener("console-message", e => {
    const t = e.detail.type;
    if (t === "new_case" || t === "queue" || t === "case") refresh();
  });
  if (waiting) { refresh(); setInterval(refresh, 15000); }
  setInterval(tick, 1000);
  tick();
})();
