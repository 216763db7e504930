// The customer panel of a case: search by 户号/电话/姓名, verify on the caller's behalf (last four digits of the
// registered phone, the holder's name for changes), bind the case, then the profile and the history across
// channels (earlier contacts with their transcripts, satisfaction). API: console/customer_api.py.
(function () {
  const panel = document.getElementById("customer-panel"); if (!panel) return;
  const api = window.consoleApi, el = api.el;
  const $ = id => document.getElementById(id);
  const caseId = panel.dataset.case;
  const base = `/console/api/cases/${caseId}`;
  let chosen = null; // the search result the agent is verifying / binding

  function say(text, bad) { const n = $("customer-message"); n.textContent = text; n.classList.toggle("error", !!bad); }
  async function call(url, body) {  // GET, or POST with a body; a refusal is said here and thrown
    try { return await api.call(body === undefined ? "GET" : "POST", url, body); }
    catch (e) { say(e.message, true); throw e; }
  }
  function fill(list, items, make, empty) {
    list.textContent = "";
    if (!items.length) { list.appendChild(el("li", empty, "empty")); return; }
    items.forEach(i => list.appendChild(make(i)));
  }
  function dl(pairs) {
    const d = el("dl"); d.id = "profile";
    pairs.forEach(([k, v]) => { d.append(el("dt", k), el("dd", v)); }); return d;
  }

  function showProfile(p, data) {
    const state = data.verified ? (data.strength >= 2 ? "已核验（可办变更）" : "已核验") : "未核验";
    $("customer-state").textContent = state;
    $("customer-state").classList.toggle("ok", !!data.verified);
    if (p.locked) {  // bound but not proved: who it is, masked; the account's data after verification
      $("profile").replaceWith(dl([["姓名", p.name], ["户号", p.account_label], ["电话", p.phone], ["地址", p.address]]));
      $("customer-extra").textContent = "核验客户身份后，可查看标签、欠费、历史联系、工单和评价。";
      askToVerify(p, data);
      return;
    }
    const tags = p.tags.length ? p.tags.join("、") : "无";
    const a = p.arrears;
    let owes = "无欠费";
    if (a.owes) {
      const parts = [];
      if (a.unpaid_months.length) parts.push(`${a.unpaid_months.join("、")}未缴，共${a.unpaid_amount}元`);
      if (a.balance !== null && a.balance < 0) parts.push(`预付费余额${a.balance}元`);
      owes = "欠费：" + parts.join("；");
    } else if (a.balance !== null) owes = `预付费余额${a.balance}元`;
    const outages = p.outages.length ? p.outages.map(o => `${o.kind}（${o.reason}），预计${o.until}恢复`).join("；") : "无";
    const old = $("profile");
    old.replaceWith(dl([["姓名", p.name], ["户号", p.account_label], ["电话", p.phone], ["地址", p.address],
                        ["所在区域", p.area], ["常用渠道", p.channels.join("、") || "无"]]));
    const extra = $("customer-extra"); extra.textContent = "";
    const t = el("p", null, "tags"); t.append("档案标签：");  // what the CIS records (低保户, 光伏用户, 预付费)
    (p.tags.length ? p.tags : ["无"]).forEach(x => t.appendChild(el("span", x, "tag")));
    extra.append(...(p.tags.length || !p.insight ? [t] : []), ...insightRows(p.insight), el("p", owes, a.owes ? "arrears owes" : "arrears"),
                 el("p", "区域停电：" + outages, p.outages.length ? "outage" : ""));
    askToVerify(p, data);
  }
  // the insight jobs' tags, each with why the customer holds it, and the arrears risk with the tree path behind it
  function insightRows(ins) {
    if (!ins) return [];
    const list = el("ul", null, "insight-tags"); list.id = "insight-tags";
    ins.tags.forEach(x => {
      const li = el("li"); li.dataset.tag = x.tag;
      li.append(el("span", x.grade ? `${x.tag}·${x.grade}` : x.tag, "tag"), el("small", `${x.reason}（${x.since}起有此标签）`));
      list.appendChild(li);
    });
    if (!ins.tags.length) list.appendChild(el("li", "暂无画像标签", "empty"));
    const r = ins.risk;
    const risk = el("p", r ? `欠费风险：${r.grade}` : "欠费风险：暂无评估", "risk" + (r ? " grade-" + ({"高": "high", "中": "mid", "低": "low"}[r.grade] || "") : ""));
    risk.id = "insight-risk";
    if (r) risk.appendChild(el("small", ` 依据：${r.path}（${r.period}账单）`));
    const head = el("h4", "客户画像 "), full = el("a", "查看完整画像", "profile-link");  // one page: usage, bills, contacts
    full.href = `/console/cases/${caseId}/profile`; full.target = "_blank"; full.rel = "noopener"; head.appendChild(full);
    return [head, list, risk];
  }
  function askToVerify(p, data) {
    if (!data.verified && panel.dataset.mine === "1") {
      chosen = {account_no: null, label: `${p.name}（户号${p.account_label}）`, bound: true};
      $("verify-who").textContent = chosen.label; $("bind-go").classList.add("hidden");
      $("verify-form").classList.remove("hidden");
    }
  }

  function contactRow(c) {
    const li = el("li"); li.dataset.contact = c.id;
    const b = el("button", `${c.at} · ${c.channel} · ${c.reason}`, "link"); b.type = "button";
    li.append(b, el("small", ` ${c.current ? "本次会话" : (c.disposition || c.status)}${c.summary ? " · " + c.summary : ""}`));
    b.onclick = () => openContact(c.id);
    return li;
  }
  async function openContact(id) {
    const box = $("contact-transcript");
    if (box.dataset.open === String(id)) { box.classList.add("hidden"); box.dataset.open = ""; return; }
    const d = await call(`${base}/contacts/${id}`);
    box.textContent = ""; box.dataset.open = String(id);
    box.appendChild(el("h4", `会话 #${d.id} 的记录`));
    const ol = el("ol", null, "mini-timeline");
    d.turns.forEach(t => {
      const li = el("li"); li.append(el("span", `${t.at} ${t.who}${t.channel ? " · " + t.channel : ""}`, "who"), el("span", t.text, "text"));
      ol.appendChild(li);
    });
    if (!d.turns.length) ol.appendChild(el("li", "这次联系没有留下对话记录。", "empty"));
    box.appendChild(ol); box.classList.remove("hidden");
  }

  async function load() {
    const data = await call(`${base}/customer`);
    if (data.profile) showProfile(data.profile, data);
    else $("customer-state").textContent = "未关联客户";
    fill($("contacts"), data.contacts || [], contactRow, "无");
    fill($("ratings"), data.ratings || [], r => el("li", `${r.at} · ${r.channel} · ${"★".repeat(r.score)}${"☆".repeat(5 - r.score)}（${r.score}分）${r.comment ? " · " + r.comment : ""}`), "暂无评价");
    document.dispatchEvent(new CustomEvent("customer-loaded", {detail: data}));
  }
  window.customerPanelReload = () => load().catch(() => {});

  function resultRow(c) {
    const li = el("li"); li.dataset.account = c.account_no;
    const b = el("button", `${c.name} · 户号${c.account_label} · ${c.phone}`, "link"); b.type = "button";
    li.append(b, el("small", ` ${c.address}${c.bound ? " · 已关联" : ""}${c.verified ? " · 已核验" : ""}`));
    b.onclick = () => {
      chosen = {account_no: c.account_no, label: `${c.name}（户号${c.account_label}）`};
      $("verify-who").textContent = chosen.label;
      $("bind-go").classList.toggle("hidden", !!c.bound);
      $("verify-form").classList.remove("hidden"); $("verify-last4").focus();
      say(c.verified ? "该客户已核验，可直接关联。" : "请向来电人询问登记手机的后4位，再点“核验”。");
    };
    return li;
  }
  const search = $("customer-search");
  if (search) {
    search.onsubmit = async e => {
      e.preventDefault();
      const q = $("customer-q").value.trim();
      if (!q) { say("请输入户号、电话或姓名。", true); return; }
      const d = await call(`${base}/customers?q=${encodeURIComponent(q)}`);
      fill($("customer-results"), d.results, resultRow, d.note || "没有找到符合条件的客户。");
      say(d.results.length ? `找到${d.results.length}位客户，点选后核验。` : "");
    };
    $("verify-form").onsubmit = async e => {
      e.preventDefault(); if (!chosen) return;
      const body = {last4: $("verify-last4").value.trim(), name: $("verify-name").value.trim()};
      if (chosen.account_no) body.account_no = chosen.account_no;
      try {
        const d = await call(`${base}/verify`, body);
        say(d.message, d.strength < 2 && !!body.name);
        $("verify-last4").value = ""; $("verify-name").value = "";
        if (chosen.bound || d.bound) {  // a proved customer is bound to the case at once: show their profile
          $("verify-form").classList.add("hidden"); $("customer-results").textContent = ""; chosen = null;
          load().catch(() => {});
        }
      } catch (err) { $("verify-last4").select(); }
    };
    $("bind-go").onclick = async () => {
      if (!chosen || !chosen.account_no) return;
      const d = await call(`${base}/bind`, {account_no: chosen.account_no});
      say(d.message); $("verify-form").classList.add("hidden"); $("customer-results").textContent = "";
      chosen = null; await load();
    };
    $("verify-cancel").onclick = () => { $("verify-form").classList.add("hidden"); chosen = null; say(""); };
  }
  load().catch(() => {});
})();
