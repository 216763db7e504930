// The case page's reply panel (templates/_reply.html): Enter sends and Shift+Enter starts a new line (never while
// an input method is composing), 常用语 from a picker ("/" in the box or the button) with their variables filled
// by the server, knowledge-base suggestions to insert, internal notes, and transfer with a note.
(function () {
  const panel = document.getElementById("reply-panel");
  if (!panel) return;
  const $ = id => document.getElementById(id);
  const caseId = panel.dataset.case;
  const call = window.consoleApi.attempt;  // {ok, status, data, error}: a refusal's sentence is said in the panel
  const box = $("reply-text"), picker = $("canned-picker"), list = $("canned-list"), search = $("canned-search");
  const VARIABLE = /[{｛](客户称呼|工单号|坐席姓名|户号尾号)[}｝]/;
  let replies = [], chosen = 0, slash = false, sending = false;

  function say(text, kind) { const p = $("reply-error"); p.textContent = text || ""; p.className = "reply-error " + (kind || ""); }
  function noteMode() { return $("note-mode").checked; }

  // ---- sending: a message to the customer, or an internal note ----
  async function send() {
    const text = box.value.trim();
    if (!text || sending) return;
    if (!noteMode()) {
      const left = text.match(VARIABLE);
      if (left) { say(`回复里还有没填的{${left[1]}}，请改成实际内容后再发送。`); selectVariable(); return; }
    }
    sending = true;
    box.value = "";  // cleared at once, as chat apps do; put back below if it was not sent
    const r = noteMode()
      ? await call("POST", `/console/api/cases/${caseId}/notes`, {text})
      : await call("POST", `/console/api/cases/${caseId}/messages`, {text});
    sending = false;
    if (!r.ok) { if (!box.value.trim()) box.value = text; say(r.error); return; }
    if (noteMode()) { showNote(r.data); say("已添加内部备注，客户看不到。", "ok"); } else say("");
    box.focus();
  }
  box.addEventListener("keydown", e => {
    if (!picker.classList.contains("hidden") && slash && pickerKey(e)) return;
    if (e.key !== "Enter" || e.shiftKey || e.ctrlKey || e.altKey || e.metaKey) return;
    if (e.isComposing || e.keyCode === 229) return; // the input method's Enter confirms the characters typed
    e.preventDefault();
    send();
  });
  $("reply").addEventListener("submit", e => { e.preventDefault(); send(); });
  $("note-mode").addEventListener("change", () => {
    const on = noteMode();
    box.classList.toggle("note-mode", on);
    $("reply-send").textContent = on ? "添加备注" : "发送";
    box.placeholder = on ? "内部备注：只有坐席和班长能看到，不会发给客户（Enter 保存）"
                         : "回复客户…（Enter 发送，Shift+Enter 换行，输入 / 选常用语）";
    say(""); box.focus();
  });

  // ---- the 常用语 picker ----
  let loading = 0;  // answers to earlier keystrokes that arrive late are dropped, not drawn over the latest
  async function load(query) {
    const mine = ++loading;
    const r = await call("GET", "/console/api/canned?q=" + encodeURIComponent(query || ""));
    if (mine !== loading) return;
    if (!r.ok) { say(r.error); return; }
    replies = r.data.replies; chosen = 0; draw();
  }
  function draw() {
    list.textContent = "";
    if (!replies.length) { const li = document.createElement("li"); li.className = "empty"; li.textContent = "没有找到常用语"; list.appendChild(li); }
    replies.forEach((c, i) => {
      const li = document.createElement("li"); li.dataset.id = c.id; li.setAttribute("role", "option");
      li.className = i === chosen ? "chosen" : "";
      const t = document.createElement("b"); t.textContent = c.title;
      const tag = document.createElement("span"); tag.className = "tag"; tag.textContent = c.team ? "团队" : "个人";
      const s = document.createElement("span"); s.className = "snippet"; s.textContent = c.text;
      li.append(t, tag, s);
      li.addEventListener("mousedown", e => { e.preventDefault(); use(c); });
      list.appendChild(li);
    });
  }
  function openPicker(query, fromSlash) {
    slash = fromSlash; picker.classList.remove("hidden");
    if (!fromSlash) { search.value = query || ""; search.focus(); }
    load(query);
  }
  function closePicker() { picker.classList.add("hidden"); slash = false; }
  function pickerKey(e) {
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault(); if (!replies.length) return true;
      chosen = (chosen + (e.key === "ArrowDown" ? 1 : replies.length - 1)) % replies.length; draw(); return true;
    }
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
      e.preventDefault(); if (replies[chosen]) use(replies[chosen]); return true;
    }
    if (e.key === "Escape") { e.preventDefault(); closePicker(); return true; }
    return false;
  }
  async function use(c) {
    const gender = $("reply-gender") ? $("reply-gender").value : "";
    const r = await call("POST", `/console/api/cases/${caseId}/canned/${c.id}`, {gender});
    if (!r.ok && r.status !== 422) { say(r.error); return; }
    if (slash) box.value = ""; // the "/搜索词" typed to open the picker
    insert(r.data.text);
    closePicker();
    if (r.status === 422) { say(r.error); selectVariable(); } else say("");
  }
  function insert(text) {
    const start = box.selectionStart ?? box.value.length, end = box.selectionEnd ?? box.value.length;
    box.value = box.value.slice(0, start) + text + box.value.slice(end);
    box.focus(); box.selectionStart = box.selectionEnd = start + text.length;
  }
  function selectVariable() { // the first {变量} without a value, selected for the agent to type over
    const m = box.value.match(VARIABLE); if (!m) return;
    box.focus(); box.selectionStart = m.index; box.selectionEnd = m.index + m[0].length;
  }
  box.addEventListener("input", () => {
    if (box.value.startsWith("/") && !box.value.includes("\n") && box.value.length <= 33) openPicker(box.value.slice(1), true);
    else if (slash) closePicker();
  });
  $("canned-open").addEventListener("click", () => picker.classList.contains("hidden") ? openPicker("", false) : closePicker());
  search.addEventListener("input", () => load(search.value));
  search.addEventListener("keydown", e => {
    if (e.key === "ArrowDown" || e.key === "ArrowUp" || e.key === "Escape") { pickerKey(e); if (e.key === "Escape") box.focus(); }
    else if (e.key === "Enter" && !e.isComposing && e.keyCode !== 229) { e.preventDefault(); if (replies[chosen]) use(replies[chosen]); }
  });

  // ---- knowledge-base suggestions ----
  async function suggestions() {
    const ul = $("suggestions").querySelector("ul");
    const r = await call("GET", `/console/api/cases/${caseId}/suggestions`);
    if (!r.ok) return;
    ul.textContent = "";
    ul.dataset.empty = r.data.hits.length ? "" : "暂无建议"; // shown by reply.css: no list item without a hit
    r.data.hits.forEach(h => {
      const li = document.createElement("li");
      const t = document.createElement("span"); t.className = "title"; t.textContent = h.title; t.title = h.text;
      const b = document.createElement("button"); b.type = "button"; b.className = "insert"; b.textContent = "插入";
      b.addEventListener("click", () => { insert(h.text); say("已插入知识库答复，可修改后再发送。", "ok"); });
      li.append(t, b); ul.appendChild(li);
    });
  }

  // ---- notes in the timeline, live ----
  function showNote(n) {
    const timeline = $("timeline");
    if (!timeline || timeline.querySelector(`li[data-note="${n.id}"]`)) return;
    const li = document.createElement("li"); li.className = "turn note " + (n.kind || ""); li.dataset.note = n.id;
    const w = document.createElement("span"); w.className = "who"; w.textContent = `${n.label} · ${n.agent}（仅坐席可见）`;
    const t = document.createElement("span"); t.className = "text"; t.textContent = n.text;
    li.append(w, t); timeline.appendChild(li); timeline.scrollTop = timeline.scrollHeight;
  }
  document.addEventListener("console-message", e => {
    const m = e.detail;
    if (String(m.case) !== caseId) return;
    if (m.type === "note") showNote(m);
    else if (m.type === "customer") suggestions();
  });

  // ---- transfer with a note ----
  const form = $("transfer-form");
  function fill(select, items, empty) {
    select.textContent = "";
    items.forEach(([value, label]) => { const o = document.createElement("option"); o.value = value; o.textContent = label; select.appendChild(o); });
    if (!items.length) { const o = document.createElement("option"); o.value = ""; o.textContent = empty; select.appendChild(o); }
  }
  $("transfer-open").addEventListener("click", async () => {
    if (!form.classList.contains("hidden")) { form.classList.add("hidden"); return; }
    const r = await call("GET", `/console/api/cases/${caseId}/transfer-targets`);
    if (!r.ok) { say(r.error); return; }
    fill($("transfer-group"), r.data.groups.map(g => [g.id, g.name]), "没有技能组");
    fill($("transfer-to"), r.data.agents.map(a => [a.username, a.name]), "没有其他在线坐席");
    form.classList.remove("hidden"); $("transfer-note").focus();
  });
  $("transfer-cancel").addEventListener("click", () => form.classList.add("hidden"));
  form.addEventListener("submit", async e => {
    e.preventDefault();
    const kind = form.querySelector("input[name=transfer-kind]:checked").value;
    const note = $("transfer-note").value.trim();
    if (!note) { say("请写一句转接说明，方便接手的同事了解情况。"); $("transfer-note").focus(); return; }
    const target = kind === "group" ? {group: $("transfer-group").value} : {to: $("transfer-to").value};
    if (!Object.values(target)[0]) { say("请选择要转给的同事或技能组。"); return; }
    const r = await call("POST", `/console/api/cases/${caseId}/transfer`, {...target, note});
    if (!r.ok) { say(r.error); return; }
    say(kind === "group" ? `已转到${r.data.group}，客户已收到通知。` : `已转给${r.data.agent}。`, "ok");
    setTimeout(() => { location.href = "/console"; }, 1200);
  });

  if (!panel.classList.contains("hidden")) suggestions();
})();
