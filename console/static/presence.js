// Every console page: the agent's status in the header (示闲 / 示忙 / 小休 with a reason, and for how long), and
// routed offers: a pop-up with 接受 / 拒绝 and a countdown, a short beep (WebAudio) and a desktop notice (once
// the agent has allowed it with the header's button). Live messages come from console.js ("console-message").
(function () {
  const $ = id => document.getElementById(id);
  const box = $("presence-box"); if (!box) return;
  const call = window.consoleApi.call;  // a refusal: thrown, its sentence shown in the pop-up or the header
  const select = $("presence"), since = $("presence-since"), notifyOn = $("notify-on");
  // counted for the browser tests (and anyone checking why a beep was heard)
  const hooks = window.p95598Alerts = {beeps: 0, notices: 0, offers: 0, audio: "none"};
  let sinceAt = null, audio = null, offer = null, deadline = 0;

  const two = n => String(n).padStart(2, "0");
  function duration(s) {
    const m = Math.floor(s / 60), h = Math.floor(m / 60);
    return h ? `${h}小时${two(m % 60)}分` : `${m}分${two(s % 60)}秒`;
  }

  // ---- status ----
  function option(value, label, disabled) {
    const o = document.createElement("option"); o.value = value; o.textContent = label; o.disabled = !!disabled;
    select.appendChild(o); return o;
  }
  function showStatus(me) {
    if (!me) return;
    const value = me.status === "available" ? "available" : `${me.status}:${me.reason}`;
    if (![...select.options].some(o => o.value === value)) option(value, me.label.replace("（", "·").replace("）", ""), true);
    select.value = value;
    box.dataset.status = me.status;
    sinceAt = Date.now() - me.seconds * 1000;
    tick();
  }
  function tick() {
    if (sinceAt !== null) since.textContent = "已" + duration(Math.max(0, Math.floor((Date.now() - sinceAt) / 1000)));
    if (offer) {
      const left = Math.ceil((deadline - Date.now()) / 1000);
      $("offer-left").textContent = left > 0 ? `${left}秒内` : "";
      if (left <= 0) hideOffer("来单已超时，已转给其他同事。");
    }
  }
  select.onchange = async () => {
    try { showStatus((await call("POST", "/console/api/presence", {status: select.value})).me); }
    catch (e) { flash(e.message); load(); }
  };

  // ---- sound and desktop notice ----
  function unlockAudio() {  // browsers start sound only after the user has touched the page
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      if (audio.state === "suspended") audio.resume();
      hooks.audio = audio.state;
    } catch (e) { hooks.audio = "unsupported"; }
  }
  document.addEventListener("click", unlockAudio, {once: true});
  document.addEventListener("keydown", unlockAudio, {once: true});
  function beep() {
    hooks.beeps += 1;
    try {
      unlockAudio();
      const osc = audio.createOscillator(), gain = audio.createGain();
      osc.frequency.value = 880; gain.gain.value = 0.15;
      osc.connect(gain); gain.connect(audio.destination);
      osc.start(); osc.stop(audio.currentTime + 0.3);
    } catch (e) { /* no sound device: the pop-up is still there */ }
  }
  if ("Notification" in window && Notification.permission === "default") notifyOn.classList.remove("hidden");
  notifyOn.onclick = async () => {
    await Notification.requestPermission();
    notifyOn.classList.add("hidden");
    if (Notification.permission === "denied") flash("桌面提醒已被浏览器禁止，可在浏览器设置里重新打开。");
  };
  function notify(title, body, tag) {
    if (!("Notification" in window) || Notification.permission !== "granted") return;
    try {
      const n = new Notification(title, {body, tag});
      n.onclick = () => { window.focus(); n.close(); };
      hooks.notices += 1;
    } catch (e) { /* some browsers allow notices only from a service worker: the pop-up is enough */ }
  }

  // ---- the offer pop-up ----
  const pop = document.createElement("div");
  pop.id = "offer"; pop.className = "offer hidden"; pop.setAttribute("role", "alertdialog");
  pop.innerHTML = '<h3>新的来单 <span id="offer-left" class="left"></span></h3><p id="offer-what" class="what"></p>' +
    '<p id="offer-summary" class="summary"></p><p id="offer-note" class="offer-note"></p>' +
    '<div class="buttons"><button type="button" id="offer-accept" class="primary">接受</button>' +
    '<button type="button" id="offer-decline">拒绝</button></div>';
  document.body.appendChild(pop);
  function showOffer(o) {
    offer = o; deadline = Date.now() + o.expires_in * 1000; hooks.offers += 1;
    const waited = o.waited >= 60 ? `${Math.floor(o.waited / 60)}分${two(o.waited % 60)}秒` : `${o.waited}秒`;
    $("offer-what").textContent = `#${o.case} · ${o.channel_name} · ${o.skill_name || "综合"}` +
      (o.urgent ? " · 紧急" : "") + ` · ${o.reason} · 已等待${waited}`;
    $("offer-summary").textContent = o.summary;
    $("offer-note").textContent = "";
    $("offer-accept").disabled = $("offer-decline").disabled = false;
    pop.classList.remove("hidden");
    tick(); beep();
    notify("新的来单", `#${o.case} ${o.channel_name}：${o.summary}`, `offer-${o.case}`);
  }
  function hideOffer(text) {
    if (!offer) return;
    offer = null;
    if (text) { $("offer-note").textContent = text; setTimeout(() => { if (!offer) pop.classList.add("hidden"); }, 3000); }
    else pop.classList.add("hidden");
    $("offer-accept").disabled = $("offer-decline").disabled = true;
    $("offer-left").textContent = "";
  }
  $("offer-accept").onclick = async () => {
    if (!offer) return;
    const id = offer.case;
    offer = null; $("offer-left").textContent = "";  // answered: the countdown and other news of it stop here
    $("offer-accept").disabled = $("offer-decline").disabled = true;
    try { location.href = (await call("POST", `/console/api/offers/${id}/accept`)).url; }
    catch (e) { $("offer-note").textContent = e.message; setTimeout(() => { if (!offer) pop.classList.add("hidden"); }, 3000); }
  };
  $("offer-decline").onclick = async () => {
    if (!offer) return;
    const id = offer.case;
    try { await call("POST", `/console/api/offers/${id}/decline`); hideOffer("已拒绝，这个会话会转给其他同事。"); }
    catch (e) { hideOffer(e.message); }
  };
  function flash(text) {
    pop.classList.remove("hidden"); $("offer-note").textContent = text;
    if (!offer) {
      $("offer-accept").disabled = $("offer-decline").disabled = true;
      setTimeout(() => { if (!offer) pop.classList.add("hidden"); }, 4000);
    }
  }

  document.addEventListener("console-message", e => {
    const m = e.detail;
    if (m.type === "offer") showOffer(m);
    else if (m.type === "offer_gone" && offer && offer.case === m.case) hideOffer(m.text);
    else if (m.type === "case" && offer && offer.case === m.case && m.status !== "waiting") {
      hideOffer(m.status === "claimed" ? "这个会话已被其他同事接起。" : "客户已经离开，这个会话已结束。");
    }
    else if (m.type === "presence") showStatus(m);
    else if (m.type === "assigned") {
      beep(); notify("班长指派了会话", `#${m.case}`, `assigned-${m.case}`);
      flash(`${m.by}把会话 #${m.case} 指派给了您，正在打开…`);
      setTimeout(() => { location.href = "/console/cases/" + m.case; }, 1500);
    }
  });
  async function load() {
    const r = await fetch("/console/api/presence"); if (!r.ok) return;
    const d = await r.json();
    select.textContent = ""; d.choices.forEach(c => option(c.value, c.label));
    showStatus(d.me);
    if (d.offer && !offer) showOffer(d.offer);
  }
  load();
  setInterval(tick, 1000);
})();
