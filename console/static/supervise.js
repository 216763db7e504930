// Supervision on the case page (_supervise.html): a supervisor monitoring a chat another person handles sees
// the transcript live (console.js draws the turns), whispers to that agent or takes the case over; the handling
// agent sees whispers highlighted in the timeline and is told when a supervisor took over.
(function () {
  const box = document.getElementById("supervise"); if (!box) return;
  const $ = id => document.getElementById(id);
  const caseId = box.dataset.case;
  const call = window.consoleApi.attempt;  // {ok, status, data, error}, never thrown
  let state = null;

  function say(text, ok) { const m = $("supervise-message"); m.textContent = text || ""; m.classList.toggle("ok", !!ok); }
  function banner(text, taken) { const b = $("monitor-banner"); b.textContent = text; b.classList.toggle("taken", !!taken); }
  function ownerTools(show) {  // the reply panel and the case actions belong to whoever handles the case
    ["reply-panel", "reply", "actions"].forEach(id => { const el = $(id); if (el) el.classList.toggle("hidden", !show); });
  }
  function showNote(n) {
    const timeline = $("timeline");
    if (!timeline || timeline.querySelector(`li[data-note="${n.id}"]`)) return;
    const li = document.createElement("li"); li.className = "turn note " + (n.kind || ""); li.dataset.note = n.id;
    const w = document.createElement("span"); w.className = "who";
    w.textContent = `${n.label} · ${n.agent}（仅坐席可见，客户看不到）`;
    const t = document.createElement("span"); t.className = "text"; t.textContent = n.text;
    li.append(w, t); timeline.appendChild(li); timeline.scrollTop = timeline.scrollHeight;
  }

  function draw() {
    if (!state) return;
    box.classList.remove("hidden");
    const owner = state.owner;
    if (state.supervisor && state.status === "claimed" && owner && !state.mine) {  // monitor mode
      banner(`监听中：${owner.name}正在处理这个会话，对话会实时显示。提示只有${owner.name}能看到，客户看不到。`);
      $("supervise-controls").classList.remove("hidden"); ownerTools(false);
    } else if (state.supervisor && state.mine) {
      banner("这个会话由您处理，可以直接回复客户。");
      if ($("supervise-controls")) $("supervise-controls").classList.add("hidden");
      ownerTools(true);
    } else if (state.supervisor) {
      banner(state.status === "waiting" ? "这个会话还在排队，没有坐席在处理。" : "这个会话已经结束。");
      if ($("supervise-controls")) $("supervise-controls").classList.add("hidden");
    } else {
      const whispers = state.notes.filter(n => n.kind === "whisper").length;
      if (!whispers) box.classList.add("hidden");
      else banner("班长在关注这个会话，提示会以黄色显示在对话里，客户看不到。");
    }
    state.notes.forEach(n => { if (n.kind !== "monitor") showNote(n); });
  }
  async function load(first) {
    const r = await call("GET", `/console/api/cases/${caseId}/supervision`);
    if (!r.ok) return;
    state = r.data; draw();
    if (first && state.supervisor && state.status === "claimed" && state.owner && !state.mine) {
      call("POST", `/console/api/cases/${caseId}/monitor`, {});  // recorded on the case: who listened in
    }
  }

  if ($("whisper-form")) {
    $("whisper-form").addEventListener("submit", async e => {
      e.preventDefault();
      const text = $("whisper-text").value.trim();
      if (!text) { say("请先写好要提示坐席的内容。"); $("whisper-text").focus(); return; }
      $("whisper-send").disabled = true;
      try {
        const r = await call("POST", `/console/api/cases/${caseId}/whisper`, {text});
        if (!r.ok) { say(r.data.error || "提示没有发出去，请稍后再试。"); return; }
        $("whisper-text").value = ""; showNote(r.data); say(`已悄悄提示${state.owner ? state.owner.name : "坐席"}，客户看不到。`, true);
      } finally { $("whisper-send").disabled = false; }
    });
    $("takeover").addEventListener("click", () => { $("takeover-confirm").classList.remove("hidden"); $("takeover").classList.add("hidden"); });
    $("takeover-no").addEventListener("click", () => { $("takeover-confirm").classList.add("hidden"); $("takeover").classList.remove("hidden"); });
    $("takeover-yes").addEventListener("click", async () => {
      $("takeover-yes").disabled = true;
      try {
        const r = await call("POST", `/console/api/cases/${caseId}/takeover`, {from: state.owner ? state.owner.id : null});
        $("takeover-confirm").classList.add("hidden"); $("takeover").classList.remove("hidden");
        if (!r.ok) { say(r.data.error || "没能接管，请刷新后再试。"); await load(false); return; }
        showNote(r.data.note); say("已接管，客户已收到值班主管继续服务的消息，请直接回复客户。", true);
        await load(false); const t = $("reply-text"); if (t) t.focus();
      } finally { $("takeover-yes").disabled = false; }
    });
  }

  document.addEventListener("console-message", e => {
    const m = e.detail;
    if (String(m.case) !== caseId) return;
    if (m.type === "whisper") {
      showNote(m);
      if (state && !state.supervisor) { box.classList.remove("hidden"); banner(`班长${m.agent}给您发来提示（客户看不到）：${m.text}`); }
    } else if (m.type === "takeover") {
      showNote(m);
      if (state && !state.supervisor) {
        box.classList.remove("hidden"); ownerTools(false);
        banner(`值班主管${m.name}已接管这个会话，接下来由主管回复客户，您不用再回复了。`, true);
      } else load(false);
    }
  });
  load(true);
})();
