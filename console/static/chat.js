// WeChat-style chat: one socket to the contact-centre hub; bot and agent messages arrive on it, and so do the
// customer's own messages typed in another tab of this browser. What the server sent when the socket opened
// (the stored conversation) is the page; live items are added to it, each id once.
(function () {
  const list = document.getElementById("messages"), quick = document.getElementById("quick");
  const typing = document.getElementById("typing"), state = document.getElementById("state");
  const banner = document.getElementById("banner"), input = document.getElementById("text");
  const menu = document.getElementById("menu"), menuButton = document.getElementById("menu-button");
  const STATES = {bot: "智能客服", waiting: "排队等待人工", agent: "人工客服"};
  const AVATARS = {customer: "我", agent: "人工", bot: "小电"};
  const ACK_MS = 15000;  // a message the server has not acknowledged by then is shown as failed
  const pending = new Map();  // id -> {li, payload, timer}: sent by this tab, not acknowledged yet
  let ws, backoff = 500, queued = [], seen = new Set(), lastDay = "";

  const newId = () => "m" + Date.now().toString(36) + Math.random().toString(36).slice(2, 10);
  const pad = n => String(n).padStart(2, "0");
  function when(iso) { const d = iso ? new Date(iso) : new Date(); return isNaN(d) ? new Date() : d; }
  function dayLabel(d) {
    const today = new Date(), yesterday = new Date(Date.now() - 86400000);
    if (d.toDateString() === today.toDateString()) return "今天";
    if (d.toDateString() === yesterday.toDateString()) return "昨天";
    return `${d.getFullYear() === today.getFullYear() ? "" : d.getFullYear() + "年"}${d.getMonth() + 1}月${d.getDate()}日`;
  }
  function scroll() { list.scrollTop = list.scrollHeight; }
  function separator(iso) {
    const d = when(iso), day = d.toDateString();
    if (day === lastDay) return;
    lastDay = day;
    const li = document.createElement("li");
    li.className = "day";
    li.textContent = dayLabel(d);
    list.appendChild(li);
  }

  function add(who, text, name, extra) {
    extra = extra || {};
    separator(extra.at);
    const li = document.createElement("li");
    li.className = "msg " + who;
    if (extra.id) li.dataset.id = extra.id;
    if (who === "divider") {
      li.innerHTML = "<span></span>";
      li.firstChild.textContent = text;
      list.appendChild(li); scroll();
      return li;
    }
    if (AVATARS[who]) {
      const avatar = document.createElement("span");
      avatar.className = "avatar"; avatar.textContent = AVATARS[who];
      li.appendChild(avatar);
    }
    const body = document.createElement("div");
    body.className = "body";
    if (name && who === "agent") { const n = document.createElement("div"); n.className = "name"; n.textContent = "客服 " + name; body.appendChild(n); }
    const bubble = document.createElement("div");
    bubble.className = "bubble";
    if (extra.image) {
      const img = document.createElement("img");
      img.src = extra.image; img.alt = "您发送的照片"; img.className = "photo";
      img.onload = scroll;
      bubble.appendChild(img);
    } else bubble.textContent = text;
    body.appendChild(bubble);
    if (who !== "system") {
      const t = document.createElement("time");
      const d = when(extra.at);
      t.className = "time"; t.dateTime = d.toISOString(); t.textContent = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
      body.appendChild(t);
    }
    li.appendChild(body);
    list.appendChild(li);
    scroll();
    return li;
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
    state.textContent = STATES[s] || "智能客服"; state.className = "state " + s;
    if (s === "waiting" && extra && extra.position) {
      banner.textContent = extra.position <= 1 ? "马上为您接通人工客服" : `前面还有${extra.position - 1}位，预计等待约${extra.wait_minutes}分钟`;
      banner.classList.remove("hidden");
    } else if (s === "agent" && extra && extra.name) {
      banner.textContent = `客服${extra.name}正在为您服务`; banner.classList.remove("hidden");
    } else banner.classList.add("hidden");
  }

  // ---- sending, acknowledgement, failure and resend (the same id: the server takes a message once) ----
  function send(text, shown) {
    if (!text.trim()) return;
    const id = newId();
    const li = add("customer", shown || text, "", {id: id});
    seen.add(id);
    buttons([]);
    pending.set(id, {li: li, payload: {type: "text", text: text, shown: shown || "", id: id}});
    transmit(id, false);
  }
  function transmit(id, resend) {
    const p = pending.get(id);
    if (!p) return;
    p.li.classList.remove("failed"); p.li.classList.add("sending");
    clearTimeout(p.timer);
    p.timer = setTimeout(() => fail(id), ACK_MS);
    const msg = JSON.stringify(Object.assign({}, p.payload, resend ? {resend: true} : {}));
    if (ws && ws.readyState === 1) ws.send(msg);
    else if (ws && ws.readyState === 0) queued.push(msg);
    else fail(id);
  }
  function fail(id, why) {
    const p = pending.get(id);
    if (!p) return;
    clearTimeout(p.timer);
    p.li.classList.remove("sending"); p.li.classList.add("failed");
    if (!p.li.querySelector(".resend")) {
      const mark = document.createElement("button");
      mark.type = "button"; mark.className = "resend"; mark.title = "没有发出去，点一下重新发送";
      mark.innerHTML = '<span class="bang">!</span><span>重发</span>';
      mark.onclick = () => transmit(id, true);
      p.li.querySelector(".body").appendChild(mark);
    }
    if (why) add("system", why);
  }
  function acknowledged(id) {
    const p = pending.get(id);
    if (!p) return false;
    clearTimeout(p.timer);
    p.li.classList.remove("sending", "failed");
    const mark = p.li.querySelector(".resend");
    if (mark) mark.remove();
    pending.delete(id);
    return true;
  }

  // ---- rating card ----
  function ratingCard(m) {
    if (list.querySelector(`.rating-card[data-key="${CSS.escape(m.key)}"]`)) return;
    separator(m.at);
    const li = document.createElement("li");
    li.className = "msg rating-card"; li.dataset.key = m.key;
    li.innerHTML = '<form class="card"><div class="ask"></div><div class="stars" role="radiogroup" aria-label="评分"></div>' +
      '<div class="hint">1分很不满意，5分非常满意</div>' +
      '<textarea maxlength="300" rows="2" placeholder="还有什么想说的？（选填，300字以内）"></textarea>' +
      '<div class="error hidden" role="alert"></div><button type="submit" class="submit">提交</button></form>';
    li.querySelector(".ask").textContent = m.text || "请为本次服务打分";
    let score = 0;
    const stars = li.querySelector(".stars"), error = li.querySelector(".error");
    for (let i = 1; i <= 5; i++) {
      const b = document.createElement("button");
      b.type = "button"; b.className = "star"; b.dataset.score = i; b.textContent = "★";
      b.setAttribute("role", "radio"); b.setAttribute("aria-label", `${i}分`); b.setAttribute("aria-checked", "false");
      b.onclick = () => {
        score = i;
        error.classList.add("hidden");
        stars.querySelectorAll(".star").forEach(s => {
          const on = Number(s.dataset.score) <= i;
          s.classList.toggle("on", on); s.setAttribute("aria-checked", String(Number(s.dataset.score) === i));
        });
      };
      stars.appendChild(b);
    }
    li.querySelector("form").onsubmit = async e => {
      e.preventDefault();
      const comment = li.querySelector("textarea").value;
      if (!score) { error.textContent = "请先点星星打个分。"; error.classList.remove("hidden"); return; }
      const r = await fetch("/chat/rating", {method: "POST", headers: {"Content-Type": "application/json"},
                                             body: JSON.stringify({key: m.key, score: score, comment: comment})}).catch(() => null);
      if (r && r.ok) { rated(m.key); return; }
      const d = r ? await r.json().catch(() => ({})) : {};
      error.textContent = d.error || "网络不太好，评价没有提交成功，请再试一次。";
      error.classList.remove("hidden");
    };
    list.appendChild(li);
    scroll();
  }
  function rated(key) {
    list.querySelectorAll(`.rating-card[data-key="${CSS.escape(key)}"]`).forEach(c => c.remove());
  }

  // ---- what the server sends ----
  function show(m) {
    if (m.type === "history") {
      list.textContent = ""; lastDay = ""; seen = new Set();
      add("bot", m.welcome, "", {at: (m.messages[0] || {}).at}).classList.add("welcome");  // always first: reloads match
      m.messages.forEach(show);
      const last = m.messages[m.messages.length - 1];
      buttons(last && last.type === "message" && last.who === "bot" ? last.buttons : []);
      setState(m.state, m);
      pending.forEach((p, id) => {  // this tab's messages the server does not have: still to send, or failed
        if (seen.has(id)) { acknowledged(id); return; }
        list.appendChild(p.li);
      });
      scroll();
      return;
    }
    if (m.id && seen.has(m.id)) { if (m.type === "sent") acknowledged(m.id); return; }
    if (m.id) seen.add(m.id);
    if (m.type === "sent") { if (!acknowledged(m.id)) add("customer", m.text, "", m); }
    else if (m.type === "message") {
      if (m.who === "customer") add("customer", m.text, "", m);
      else { add(m.who, m.text, m.name, m); buttons(m.buttons); }
    }
    else if (m.type === "failed") { pending.has(m.id) ? fail(m.id, m.text) : add("system", m.text); }
    else if (m.type === "rating") ratingCard(m);
    else if (m.type === "rated") rated(m.key);
    else if (m.type === "typing") typing.classList.toggle("hidden", !m.on);
    else if (m.type === "handoff") setState(m.state, m);
    else if (m.type === "error") add("system", m.text);
  }
  function connect() {
    const socket = ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/chat/ws");
    socket.onopen = () => { backoff = 500; queued.splice(0).forEach(m => socket.send(m)); };
    socket.onmessage = ev => show(JSON.parse(ev.data));
    socket.onclose = () => {
      if (socket !== ws) return;
      typing.classList.add("hidden");
      queued = [];
      pending.forEach((p, id) => fail(id));  // no acknowledgement came: shown as failed, with 重发
      setTimeout(connect, backoff = Math.min(backoff * 2, 8000));
    };
  }

  document.getElementById("composer").onsubmit = e => { e.preventDefault(); send(input.value); input.value = ""; };
  document.querySelectorAll("#services button").forEach(b => { b.onclick = () => send(b.dataset.payload, b.textContent.trim()); });
  menuButton.onclick = () => {
    const open = menu.classList.toggle("hidden") === false;
    menuButton.setAttribute("aria-expanded", String(open));
  };
  const confirmEnd = document.getElementById("end-confirm");  // one tap in a menu must not end a chat by mistake
  document.getElementById("end-chat").onclick = () => {
    menu.classList.add("hidden"); menuButton.setAttribute("aria-expanded", "false");
    confirmEnd.classList.remove("hidden"); document.getElementById("end-no").focus();
  };
  document.getElementById("end-no").onclick = () => confirmEnd.classList.add("hidden");
  document.getElementById("end-yes").onclick = async () => {
    confirmEnd.classList.add("hidden");
    const r = await fetch("/chat/end", {method: "POST"}).catch(() => null);
    if (!r || !r.ok) add("system", "网络不太好，没能结束会话，请稍后再试。");
  };
  document.getElementById("photo").onchange = async e => {
    const file = e.target.files[0];
    e.target.value = "";
    if (!file) return;
    if (file.size > 5 * 1024 * 1024) { add("system", "照片太大了，请选一张5MB以内的照片。"); return; }
    const id = newId();
    const r = await fetch("/chat/photo?id=" + id, {method: "POST", body: file,
                                                    headers: {"Content-Type": file.type || "application/octet-stream"}}).catch(() => null);
    if (!r) { add("system", "网络不太好，照片没有发出去，请再试一次。"); return; }
    const d = await r.json().catch(() => ({}));
    if (!r.ok) add("system", d.error || "照片没有发出去，请再试一次。");
  };
  document.getElementById("continue-elsewhere").onclick = async () => {
    const r = await fetch("/chat/code", {method: "POST"});
    const note = document.getElementById("code-note");  // for this page only: a code is not part of the chat
    if (r.ok) {
      const d = await r.json();
      note.querySelector(".text").textContent = `续办码 ${d.code}：在微信公众号或另一台设备的网页客服里发送“续办${d.code}”即可接着办理，30分钟内有效，只能用一次。`;
    } else note.querySelector(".text").textContent = "暂时没能生成续办码，请稍后再试。";
    note.classList.remove("hidden");
  };
  document.querySelector("#code-note .close").onclick = () => document.getElementById("code-note").classList.add("hidden");
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
