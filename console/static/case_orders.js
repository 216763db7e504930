// Orders in the case: the customer's orders (by account and by this conversation) with status and priority; click
// one to correct its contact phone, address or note, change its priority or status; a new order prefilled from the
// conversation (the detected request, the collected details, the account). The timeline button is orders.js'.
(function () {
  const box = document.getElementById("case-orders"); if (!box) return;
  const api = window.consoleApi, el = api.el;
  const $ = id => document.getElementById(id);
  const caseId = document.getElementById("case").dataset.case;
  const base = `/console/api/cases/${caseId}`;
  const mine = box.dataset.mine === "1";
  let orders = {}; let editing = null;

  function say(text, bad) { const n = $("message"); if (n) { n.textContent = text; n.classList.toggle("error", !!bad); } }
  async function call(url, body) {  // GET, or POST with a body; a refusal is said here and thrown
    try { return await api.call(body === undefined ? "GET" : "POST", url, body); }
    catch (e) { say(e.message, true); throw e; }
  }

  function orderRow(o) {
    const li = el("li", null, "order" + (o.priority === "urgent" ? " urgent" : "") + (o.open ? "" : " done"));
    li.dataset.number = o.number;
    const head = el("span", null, "order-head"); head.title = mine && o.open ? "点击修改" : "";
    head.append(el("b", o.number), ` ${o.service} · `, el("b", o.status_label, "order-status"),
                el("span", ` · ${o.priority_label}`, "order-priority"));
    if (o.in_case) head.appendChild(el("span", "本次会话", "tag"));
    const small = el("small", null, "order-meta");
    small.textContent = [o.created_at, o.due_at ? `${o.due_at}前${o.due_step || "办结"}` : "", o.team, o.assignee]
      .filter(Boolean).join(" · ");
    li.append(head, el("br"), small, " ");
    const progress = el("button", "进度", "order-progress"); progress.type = "button"; progress.dataset.number = o.number;
    li.appendChild(progress);
    if (mine && !o.in_case) {
      const link = el("button", "关联到本会话", "order-link"); link.type = "button"; link.dataset.number = o.number;
      li.appendChild(link);
    }
    if (mine && o.open) head.onclick = () => edit(o.number);
    return li;
  }
  function show(list) {
    orders = {}; const ul = $("orders"); ul.textContent = "";
    list.forEach(o => { orders[o.number] = o; ul.appendChild(orderRow(o)); });
    if (!list.length) ul.appendChild(el("li", "无", "empty"));
  }
  function edit(number) {
    const o = orders[number]; if (!o) return;
    editing = number;
    $("edit-number").textContent = number; $("edit-current").textContent = `${o.service} · ${o.status_label}`;
    $("edit-phone").value = o.details.contact_phone || ""; $("edit-address").value = o.details.address || "";
    $("edit-note").value = o.details.note || ""; $("edit-priority").value = o.priority; $("edit-status").value = "";
    $("order-edit").classList.remove("hidden"); $("edit-phone").focus();
  }
  $("edit-cancel").onclick = () => { $("order-edit").classList.add("hidden"); editing = null; };
  $("order-edit").onsubmit = async e => {
    e.preventDefault(); if (!editing) return;
    const o = orders[editing]; const body = {};
    const fields = {contact_phone: "edit-phone", address: "edit-address", note: "edit-note"};
    Object.entries(fields).forEach(([k, id]) => { const v = $(id).value.trim(); if (v !== (o.details[k] || "")) body[k] = v; });
    if ($("edit-priority").value !== o.priority) body.priority = $("edit-priority").value;
    const status = $("edit-status").value;
    if (!Object.keys(body).length && !status) { say("没有要修改的内容。", true); return; }
    let msg = "";
    if (Object.keys(body).length) msg = (await call(`${base}/orders/${encodeURIComponent(editing)}/edit`, body)).message;
    if (status) {
      const d = await call(`${base}/orders/${encodeURIComponent(editing)}`, {status, note: body.note || ""});
      msg = `工单 ${d.number} 已更新为“${d.status}”。`;
    }
    say(msg); $("order-edit").classList.add("hidden"); editing = null;
    if (window.customerPanelReload) window.customerPanelReload();
  };
  box.addEventListener("click", async e => {
    const b = e.target.closest("button.order-link"); if (!b) return;
    const d = await call(`${base}/orders/${encodeURIComponent(b.dataset.number)}/link`, {});
    say(d.message); if (window.customerPanelReload) window.customerPanelReload();
  });
  document.addEventListener("customer-loaded", e => show(e.detail.orders || []));

  // A new order, prefilled from the conversation
  let draftFields = {};
  async function draft() {
    const d = await call(`${base}/order-draft`);
    if (d.function_id) $("order-function").value = d.function_id;
    $("order-account").textContent = d.account_no ? `户号${d.account_no}` : "未关联户号（可先查找并关联客户）";
    const holder = $("order-details"); holder.textContent = ""; draftFields = {};
    Object.entries(d.details).forEach(([k, v]) => {
      const label = el("label", d.labels[k] || k); const input = el("input"); input.value = v; input.maxLength = 300;
      input.dataset.slot = k; label.appendChild(input); holder.appendChild(label); draftFields[k] = input;
    });
    if (!$("order-note").value) $("order-note").value = d.details.fault_desc || d.details.note || (d.service ? `客户申请${d.service}` : "");
  }
  $("order-form").onsubmit = async e => {
    e.preventDefault();
    const details = {}; Object.entries(draftFields).forEach(([k, input]) => { details[k] = input.value.trim(); });
    const d = await call(`${base}/orders`, {function_id: $("order-function").value, note: $("order-note").value,
      urgent: $("order-urgent").checked, details, request_id: String(Date.now())});
    say(`已新建工单 ${d.number}（${d.status}）。`); $("order-note").value = "";
    if (window.customerPanelReload) window.customerPanelReload();
  };
  if (mine) {
    draft().catch(() => {});
    document.addEventListener("customer-loaded", () => {
      if (!$("order-account").textContent.startsWith("户号")) draft().catch(() => {});
    });
  }
})();
