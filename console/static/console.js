// Agent console: one socket for live updates; actions are small JSON POSTs carrying the CSRF token.
(function () {
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const casePage = document.getElementById("case");
  const caseId = casePage && casePage.dataset.case;
  const $ = id => document.getElementById(id);
  const WHO = {customer: "客户", bot: "机器人"};

  async function post(url, body) {
    const r = await fetch(url, {method: "POST", headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf},
                                body: JSON.stringify(body || {})});
    const text = await r.text();
    if (!r.ok) { note(text || r.statusText); throw new Error(text); }
    return text ? JSON.parse(text) : {};
  }
  function note(text) { const n = $("message"); if (n) n.textContent = text; }
  function turn(who, text, label) {
    const list = $("timeline"); if (!list) return;
    const li = document.createElement("li"); li.className = "turn " + who;
    const w = document.createElement("span"); w.className = "who"; w.textContent = label || WHO[who] || who;
    const t = document.createElement("span"); t.className = "text"; t.textContent = text;
    li.append(w, t); list.appendChild(li); list.scrollTop = list.scrollHeight;
  }
  function pop(text, id) {
    const p = $("pop"); p.textContent = text; p.classList.remove("hidden");
    p.onclick = () => { location.href = "/console/cases/" + id; };
    setTimeout(() => p.classList.add("hidden"), 15000);
  }
  // The queue is redrawn from the JSON API, never by reloading: a reload races the agent's own navigation.
  function caseRow(c, action) {
    const li = document.createElement("li"); li.className = "case " + c.priority; li.dataset.case = c.id;
    const a = document.createElement("a"); a.href = "/console/cases/" + c.id;
    a.textContent = `#${c.id} · ${c.channel_name}` + (c.priority === "urgent" ? " · 紧急" : "");
    const s = document.createElement("span"); s.className = "summary"; s.textContent = c.summary;
    const m = document.createElement("span"); m.className = "meta";
    m.textContent = `${c.phone || ""} 等待 ${Math.floor(c.waited / 60)}分${c.waited % 60}秒` + (c.agent ? ` · ${c.agent}` : "");
    li.append(a, s, m);
    if (action === "claim") {
      const b = document.createElement("button"); b.className = "claim"; b.dataset.case = c.id; b.textContent = "接入";
      li.appendChild(b);
    }
    return li;
  }
  function fillCases(list, cases, action) {
    if (!list) return;
    list.textContent = "";
    if (!cases.length) { const li = document.createElement("li"); li.className = "empty"; li.textContent = "暂无"; list.appendChild(li); }
    cases.forEach(c => list.appendChild(caseRow(c, action)));
  }
  async function refreshQueue() {
    if (!$("waiting") || casePage) return;
    const r = await fetch("/console/api/queue"); if (!r.ok) return;
    const q = await r.json();
    fillCases($("waiting"), q.waiting, "claim"); fillCases($("mine"), q.mine, "open");
    const n = $("queue-count"); if (n) n.textContent = q.waiting.length;
  }
  async function suggestions() {
    const box = $("suggestions"); if (!box || box.classList.contains("hidden")) return;
    const r = await fetch(`/console/api/cases/${caseId}/suggestions`); if (!r.ok) return;
    const ul = box.querySelector("ul"); ul.textContent = "";
    (await r.json()).hits.forEach(h => {
      const li = document.createElement("li"); li.textContent = h.title + "：" + h.text;
      li.onclick = () => { $("reply-text").value = h.text; }; ul.appendChild(li);
    });
  }
  document.addEventListener("click", async e => {
    const b = e.target.closest("button.claim"); if (!b) return;
    await post(`/console/api/cases/${b.dataset.case}/claim`);
    location.href = "/console/cases/" + b.dataset.case;
  });
  if (casePage) {
    $("reply").onsubmit = async e => {
      e.preventDefault(); const text = $("reply-text").value.trim(); if (!text) return;
      await post(`/console/api/cases/${caseId}/messages`, {text}); $("reply-text").value = "";
    };
    $("order-form").onsubmit = async e => {
      e.preventDefault();
      const d = await post(`/console/api/cases/${caseId}/orders`, {function_id: $("order-function").value,
        note: $("order-note").value, urgent: $("order-urgent").checked, request_id: String(Date.now())});
      note(`已新建工单 ${d.number}（${d.status}）`);
    };
    $("order-update").onsubmit = async e => {
      e.preventDefault();
      const d = await post(`/console/api/cases/${caseId}/orders/${encodeURIComponent($("update-number").value.trim())}`,
                           {status: $("update-status").value, note: $("update-note").value});
      note(`工单 ${d.number} 已更新为${d.status}`);
    };
    $("transfer-form").onsubmit = async e => {
      e.preventDefault(); if (!$("transfer-to").value) return;
      await post(`/console/api/cases/${caseId}/transfer`, {to: $("transfer-to").value}); location.href = "/console";
    };
    $("code").onclick = async () => { const d = await post(`/console/api/cases/${caseId}/code`); $("code-out").textContent = `续办码 ${d.code}`; };
    $("return-bot").onclick = async () => { await post(`/console/api/cases/${caseId}/return`, {disposition: $("disposition").value}); location.href = "/console"; };
    $("close-case").onclick = async () => { await post(`/console/api/cases/${caseId}/close`, {disposition: $("disposition").value}); location.href = "/console"; };
    $("release-case").onclick = async () => { await post(`/console/api/cases/${caseId}/release`); location.href = "/console"; };
    suggestions();
  }
  function connect() {
    const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/console/ws");
    const dot = $("online");
    ws.onopen = () => { dot && dot.classList.remove("off"); ws.ping = setInterval(() => ws.send("ping"), 20000); };
    ws.onclose = () => { dot && dot.classList.add("off"); clearInterval(ws.ping); setTimeout(connect, 2000); };
    ws.onmessage = ev => {
      const m = JSON.parse(ev.data);
      document.dispatchEvent(new CustomEvent("console-message", {detail: m})); // for orders.js (order alerts)
      if (m.type === "new_case") { pop(`新的转人工 #${m.case}：${m.summary}`, m.case); refreshQueue(); }
      else if (m.type === "queue" || m.type === "case") refreshQueue();
      else if (caseId && String(m.case) === caseId && m.type === "customer") { turn("customer", m.text); suggestions(); }
      else if (caseId && String(m.case) === caseId && m.type === "agent") turn("agent", m.text, m.name);
    };
  }
  if (document.getElementById("online")) connect();
})();
