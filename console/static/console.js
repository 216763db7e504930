// Agent console: one socket for live updates; actions are small JSON POSTs carrying the CSRF token.
(function () {
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const casePage = document.getElementById("case");
  const caseId = casePage && casePage.dataset.case;
  const $ = id => document.getElementById(id);
  const WHO = {customer: "客户", bot: "机器人"};

  async function post(url, body) {
    try { return await api.call("POST", url, body || {}); } catch (e) { note(e.message); throw e; }
  }
  // A refused call says why in Chinese ({"error": ...}); a stale tab after logout gets a link to log in again.
  function refusal(r, text) {
    let why = "操作没有成功，请稍后再试。";
    try { why = JSON.parse(text).error || why; } catch (e) { /* not JSON: keep the general sentence */ }
    if (r.status === 401) { expired(); why = "登录已过期，请重新登录"; }
    return why;
  }
  function expired() {
    let bar = $("session-expired"); if (bar) return;
    bar = document.createElement("div"); bar.id = "session-expired"; bar.className = "expired"; bar.setAttribute("role", "alert");
    const a = document.createElement("a"); a.href = "/console/login"; a.textContent = "重新登录";
    bar.append("登录已过期，请重新登录。", a); document.body.prepend(bar);
  }
  window.consoleRefusal = refusal; // other console scripts (orders.js, history.js) show refusals the same way
  // The console's JSON API for every console script (loaded first on each page, see templates/base.html): the
  // CSRF token on every call; a refusal is the Chinese sentence of consoleRefusal (a 401 also shows the bar
  // above), a lost connection a sentence of its own. Each script shows the sentence in its own place.
  //   consoleApi.call(method, url, body)    -> the parsed JSON answer, or throws Error(sentence) (.status, .data)
  //   consoleApi.attempt(method, url, body) -> {ok, status, data, error} and never throws (error: the sentence)
  //   consoleApi.el(tag, text, cls)         -> a new element with that text and class
  async function attempt(method, url, body) {
    let r;
    try {
      r = await fetch(url, {method, headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf},
                            body: body === undefined ? undefined : JSON.stringify(body)});
    } catch (e) {
      return {ok: false, status: 0, data: {}, error: "网络连接中断，请检查网络后再试。"};
    }
    const text = await r.text().catch(() => "");
    let data = {};
    try { data = text ? JSON.parse(text) : {}; } catch (e) { /* not JSON: no data, and the general sentence */ }
    return {ok: r.ok, status: r.status, data, error: r.ok ? "" : refusal(r, text)};
  }
  const api = window.consoleApi = {
    attempt,
    async call(method, url, body) {
      const r = await attempt(method, url, body);
      if (!r.ok) throw Object.assign(new Error(r.error), {status: r.status, data: r.data});
      return r.data;
    },
    el(tag, text, cls) {
      const e = document.createElement(tag); if (text !== undefined && text !== null) e.textContent = text;
      if (cls) e.className = cls; return e;
    },
  };
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
  // the queue lists, their live waits, 接入 and 指派: queue.js; status and routed offers: presence.js
  if (casePage) {
    // the reply box, canned replies, suggestions, notes and transfer: reply.js
    // the customer panel and the case's orders (search, verify, bind, new/edit order): customer.js, case_orders.js
    $("code").onclick = async () => { const d = await post(`/console/api/cases/${caseId}/code`); $("code-out").textContent = `续办码 ${d.code}`; };
    $("return-bot").onclick = async () => { await post(`/console/api/cases/${caseId}/return`, {disposition: $("disposition").value}); location.href = "/console"; };
    $("close-case").onclick = async () => { await post(`/console/api/cases/${caseId}/close`, {disposition: $("disposition").value}); location.href = "/console"; };
    $("release-case").onclick = async () => { await post(`/console/api/cases/${caseId}/release`); location.href = "/console"; };
  }
  function connect() {
    const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/console/ws");
    const dot = $("online");
    ws.onopen = () => { dot && dot.classList.remove("off"); ws.ping = setInterval(() => ws.send("ping"), 20000); };
    ws.onclose = async () => {
      dot && dot.classList.add("off"); clearInterval(ws.ping);
      const r = await fetch("/console/api/queue").catch(() => null); // logged out in another tab: say so, stop
      if (r && r.status === 401) { refusal(r, ""); return; }
      setTimeout(connect, 2000);
    };
    ws.onmessage = ev => {
      const m = JSON.parse(ev.data);
      document.dispatchEvent(new CustomEvent("console-message", {detail: m})); // for orders.js (order alerts)
      if (m.type === "new_case") pop(`新的转人工 #${m.case}：${m.summary}`, m.case);
      else if (m.type === "note" && m.for && m.for === document.body.dataset.agent && String(m.case) !== caseId)
        pop(`${m.agent}转给您会话 #${m.case}：${m.text}`, m.case); // a colleague's transfer, with its note
      else if (caseId && String(m.case) === caseId && m.type === "customer") { turn("customer", m.text); }
      else if (caseId && String(m.case) === caseId && m.type === "agent") turn("agent", m.text, m.name);
    };
  }
  if (document.getElementById("online")) connect();
})();
