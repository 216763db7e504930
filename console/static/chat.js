// WeChat-style chat: one socket to the contact-centre hub; bot and agent messages arrive on it.
(function () {
  const list = document.getElementById("messages"), quick = document.getElementById("quick");
  const typing = document.getElementById("typing"), state = document.getElementById("state");
  const banner = document.getElementById("banner"), input = document.getElementById("text");
  const STATES = {bot: "智能客服", waiting: "排队等待人工", agent: "人工客服"};
  let ws, backoff = 500, queued = [];

  function add(who, text, name) {
    const li = document.createElement("li");
    li.className = "msg " + who;
    const avatar = document.createElement("span");
    avatar.className = "avatar";
    avatar.textContent = who === "customer" ? "我" : who === "agent" ? "人工" : who === "system" ? "" : "小电";
    const body = document.createElement("div");
    if (name && who === "agent") { const n = document.createElement("div"); n.className = "name"; n.textContent = "客服 " + name; body.appendChild(n); }
    const bubble = document.createElement("div");
    bubble.className = "bubble";
    bubble.textContent = text;
    body.appendChild(bubble);
    if (who !== "system") li.appendChild(avatar);
    li.appendChild(body);
    list.appendChild(li);
    list.scrollTop = list.scrollHeight;
  }
  function buttons(items) {
    quick.textContent = "";
    (items || []).forEach(b => {
      const btn = document.createElement("button");
      btn.type = "button"; btn.textContent = b.title;
      btn.onclick = () => send(b.payload, b.title);
      quick.appendChild(btn);
    });
  }
  function setState(s, extra) {
    state.textContent = STATES[s] || s; state.className = "state " + s;
    if (s === "waiting" && extra && extra.position) {
      banner.textContent = extra.position <= 1 ? "马上为您接通人工客服" : `前面还有${extra.position - 1}位，预计等待约${extra.wait_minutes}分钟`;
      banner.classList.remove("hidden");
    } else if (s === "agent" && extra && extra.name) {
      banner.textContent = `客服${extra.name}正在为您服务`; banner.classList.remove("hidden");
    } else banner.classList.add("hidden");
  }
  function send(text, shown) {
    if (!text.trim()) return;
    add("customer", shown || text);
    buttons([]);
    const msg = JSON.stringify({type: "text", text: text});
    if (ws && ws.readyState === 1) ws.send(msg); else queued.push(msg);
  }
  const seen = new Set();
  function connect() {
    ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/chat/ws");
    ws.onopen = () => { backoff = 500; queued.splice(0).forEach(m => ws.send(m)); };
    ws.onmessage = ev => {
      const m = JSON.parse(ev.data);
      if (m.type === "history") {
        list.textContent = "";
        if (!m.messages.length) add("bot", m.welcome);
        m.messages.forEach(t => add(t.who, t.text, t.name));
        setState(m.state);
      } else if (m.type === "message") {
        if (m.id && seen.has(m.id)) return;  // an order update sent again after a restart
        if (m.id) seen.add(m.id);
        add(m.who, m.text, m.name); buttons(m.buttons);
      }
      else if (m.type === "typing") typing.classList.toggle("hidden", !m.on);
      else if (m.type === "handoff") setState(m.state, m);
      else if (m.type === "error") add("system", m.text);
    };
    ws.onclose = () => { typing.classList.add("hidden"); setTimeout(connect, backoff = Math.min(backoff * 2, 8000)); };
  }
  document.getElementById("composer").onsubmit = e => { e.preventDefault(); send(input.value); input.value = ""; };
  document.getElementById("continue-elsewhere").onclick = async () => {
    const r = await fetch("/chat/code", {method: "POST"});
    if (r.ok) { const d = await r.json(); add("system", `续办码 ${d.code}：在微信公众号或另一台设备的网页客服里发送“续办${d.code}”即可接着办理，30分钟内有效，只能用一次。`); }
  };
  // a continuation link (/c/123456) only offers to continue; the customer's click binds the case
  const code = new URLSearchParams(location.search).get("continue");
  if (code && /^\d{6}$/.test(code)) {
    history.replaceState(null, "", "/chat");
    buttons([]);
    const btn = document.createElement("button");
    btn.type = "button"; btn.id = "continue-case"; btn.textContent = "接着办理之前的业务";
    btn.onclick = async () => {
      quick.textContent = "";
      const r = await fetch("/chat/continue", {method: "POST", headers: {"Content-Type": "application/json"},
                                                 body: JSON.stringify({code: code})});
      const d = r.ok ? await r.json() : {messages: [{text: "没能接上之前的业务，请稍后再试。"}]};
      d.messages.forEach(m => add("bot", m.text));
      if (d.continued && ws) ws.close();   // reconnects on the continued case, with its history
    };
    quick.appendChild(btn);
  }
  connect();
})();
