"use strict";
// The field app's page: log in, my orders, one order with its moves and timeline. Data goes in with
// textContent only (never as HTML); every POST carries the session's CSRF token.
(() => {
  const $ = (sel) => document.querySelector(sel);
  const MAX_PHOTO = 5 * 1024 * 1024;
  const PHOTO_TYPES = ["image/jpeg", "image/png", "image/webp"];
  let csrf = "";
  let member = null;
  let shown = null; // the order on screen
  let timer = null;

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function say(text, error) {
    const box = $("#msg");
    box.textContent = text;
    box.classList.toggle("error", Boolean(error));
    box.classList.toggle("hidden", !text);
    clearTimeout(say.timer);
    if (text) say.timer = setTimeout(() => box.classList.add("hidden"), error ? 8000 : 4000);
  }

  async function call(method, url, body) {
    const opts = { method, headers: {}, credentials: "same-origin" };
    if (method !== "GET") opts.headers["X-CSRF-Token"] = csrf;
    if (body instanceof FormData) {
      opts.body = body;
    } else if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(url, opts);
    } catch (e) {
      throw new Error("网络不太好，请稍后再试。");
    }
    let data = {};
    try {
      data = await response.json();
    } catch (e) {
      data = {};
    }
    if (response.status === 401 && url !== "/field/api/login") {
      await showLogin();
      throw new Error(data.error || "请先登录。");
    }
    if (!response.ok) throw new Error(data.error || "操作没有成功，请稍后再试。");
    return data;
  }

  function view(name) {
    for (const id of ["login-view", "list-view", "detail-view"]) $("#" + id).classList.toggle("hidden", id !== name);
    $("#back").classList.toggle("hidden", name !== "detail-view");
    $("#logout").classList.toggle("hidden", name === "login-view");
    clearInterval(timer);
    if (name === "list-view") timer = setInterval(() => loadList().catch(() => {}), 60000);
    window.scrollTo(0, 0);
  }

  async function showLogin() {
    member = null;
    const data = await fetch("/field/api/session", { credentials: "same-origin" }).then((r) => r.json());
    csrf = data.csrf;
    $("#title").textContent = "网格工单";
    view("login-view");
  }

  function dueLine(o) {
    if (!o.due) return null;
    const line = el("div", "due" + (o.overdue ? " late" : ""), `${o.due_step || "处理"}时限 ${o.due}`);
    if (o.overdue) line.append(" ", el("span", "tag late", "已超时"));
    return line;
  }

  function item(o) {
    const li = el("li", o.overdue ? "overdue" : "");
    li.dataset.number = o.number;
    const a = el("a");
    a.href = "#/o/" + encodeURIComponent(o.number);
    const top = el("div", "top");
    const left = el("span", "num", o.number);
    const tags = el("span");
    if (o.urgent) tags.append(el("span", "tag urgent", "紧急"), " ");
    if (!o.mine) tags.append(el("span", "tag other", o.assignee || "班组"), " ");
    tags.append(el("span", "tag status", o.status_label));
    top.append(left, tags);
    a.append(top, el("div", "service", o.service), el("div", "addr", o.address));
    const due = dueLine(o);
    if (due) a.append(due);
    li.append(a);
    return li;
  }

  async function loadList() {
    const data = await call("GET", "/field/api/orders");
    const list = $("#orders");
    list.replaceChildren(...data.orders.map(item));
    $("#empty").classList.toggle("hidden", data.orders.length > 0);
  }

  async function showList() {
    $("#title").textContent = "我的工单";
    $("#who").textContent = `${member.name}（${member.team}·${member.role}）`;
    view("list-view");
    await loadList();
  }

  function fact(dl, label, value) {
    if (value === undefined || value === null || value === "") return;
    dl.append(el("dt", "", label));
    const dd = el("dd");
    if (value instanceof Node) dd.append(value);
    else dd.textContent = value;
    dl.append(dd);
  }

  function renderOrder(o) {
    shown = o;
    const card = $("#card");
    const top = el("div", "top");
    const tags = el("span");
    if (o.urgent) tags.append(el("span", "tag urgent", "紧急"), " ");
    tags.append(el("span", "tag status", o.status_label));
    top.append(el("span", "num", o.number), tags);
    const dl = el("dl");
    fact(dl, "地址", o.address);
    for (const f of o.facts) fact(dl, f.label, f.value);
    fact(dl, "受理时间", o.created);
    fact(dl, "处理人", o.assignee);
    const children = [top, el("div", "service", o.service)];
    const due = dueLine(o);
    if (due) children.push(due);
    children.push(dl);
    const actions = el("div", "actions");
    if (o.map) {
      const map = el("a", "map", "地图导航");
      map.href = o.map;
      map.target = "_blank";
      map.rel = "noopener noreferrer";
      actions.append(map);
    }
    if (o.phone) {
      const tel = el("a", "tel", "联系客户");
      tel.href = "tel:" + o.phone;
      actions.append(tel);
    }
    if (actions.children.length) children.push(actions);
    card.replaceChildren(...children);

    const moves = $("#moves");
    moves.replaceChildren(
      ...o.moves.map((m) => {
        const b = el("button", "move " + m.to, m.label);
        b.type = "button";
        b.dataset.to = m.to;
        b.dataset.needs = m.needs;
        return b;
      }),
    );
    if (!o.moves.length) moves.append(el("p", "none", "这张工单现在没有需要您操作的步骤。"));
    for (const form of ["#resolve-form", "#cannot-form"]) $(form).classList.add("hidden");

    $("#timeline").replaceChildren(
      ...o.timeline.map((e) => {
        const li = el("li");
        li.append(el("div", "when", `${e.at} · ${e.who}`), el("div", "what", e.status));
        if (e.note) li.append(el("div", "note", e.note));
        for (const url of e.photos) {
          const img = el("img", "photo");
          img.src = url;
          img.alt = "现场照片";
          img.loading = "lazy";
          li.append(img);
        }
        return li;
      }),
    );
  }

  async function showOrder(number) {
    $("#title").textContent = "工单详情";
    view("detail-view");
    const data = await call("GET", "/field/api/orders/" + encodeURIComponent(number));
    renderOrder(data.order);
  }

  async function route() {
    const found = location.hash.match(/^#\/o\/([A-Za-z0-9]{1,16})$/);
    try {
      if (!member) return;
      if (found) await showOrder(found[1]);
      else await showList();
    } catch (e) {
      say(e.message, true);
    }
  }

  async function send(to, note, photo, button) {
    const buttons = document.querySelectorAll("#detail-view button");
    buttons.forEach((b) => (b.disabled = true));
    try {
      let body = { to, note };
      if (photo) {
        body = new FormData();
        body.append("to", to);
        body.append("note", note);
        body.append("photo", photo, photo.name || "photo");
      }
      const data = await call("POST", `/field/api/orders/${encodeURIComponent(shown.number)}/move`, body);
      renderOrder(data.order);
      say(data.message);
      for (const form of ["#resolve-form", "#cannot-form"]) $(form).reset();
      $("#preview").classList.add("hidden");
    } catch (e) {
      say(e.message, true);
      if (shown) await showOrder(shown.number).catch(() => {});
    } finally {
      buttons.forEach((b) => (b.disabled = false));
      if (button) button.blur();
    }
  }

  function checkPhoto(file) {
    if (!file) return "";
    if (!PHOTO_TYPES.includes(file.type)) return "只能上传 JPG、PNG 或 WebP 格式的照片。";
    if (file.size > MAX_PHOTO) return "照片太大了，请选择 5MB 以内的照片。";
    return "";
  }

  document.addEventListener("DOMContentLoaded", async () => {
    $("#login-form").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const form = ev.target;
      const button = form.querySelector("button");
      button.disabled = true;
      try {
        const data = await call("POST", "/field/api/login", {
          username: form.username.value.trim(),
          password: form.password.value,
        });
        member = data.member;
        csrf = data.csrf;
        form.reset();
        say("");
        await route();
      } catch (e) {
        say(e.message, true);
        if (!member) await showLogin().catch(() => {});
      } finally {
        button.disabled = false;
      }
    });
    $("#logout").addEventListener("click", async () => {
      await call("POST", "/field/api/logout").catch(() => {});
      location.hash = "";
      await showLogin();
    });
    $("#back").addEventListener("click", () => {
      location.hash = "";
    });
    $("#refresh").addEventListener("click", () => loadList().then(() => say("已刷新。"), (e) => say(e.message, true)));
    $("#moves").addEventListener("click", (ev) => {
      const b = ev.target.closest("button[data-to]");
      if (!b) return;
      const needs = b.dataset.needs;
      $("#resolve-form").classList.toggle("hidden", needs !== "note");
      $("#cannot-form").classList.toggle("hidden", needs !== "reason");
      if (needs === "note") $("#resolve-form textarea").focus();
      else if (needs === "reason") $("#cannot-form textarea").focus();
      else send(b.dataset.to, "", null, b);
    });
    for (const form of ["#resolve-form", "#cannot-form"]) {
      $(form).querySelector(".cancel").addEventListener("click", () => $(form).classList.add("hidden"));
    }
    $("#resolve-form input[type=file]").addEventListener("change", (ev) => {
      const file = ev.target.files[0];
      const problem = checkPhoto(file);
      const preview = $("#preview");
      if (problem) {
        say(problem, true);
        ev.target.value = "";
      }
      if (file && !problem) {
        preview.src = URL.createObjectURL(file);
        preview.classList.remove("hidden");
      } else {
        preview.classList.add("hidden");
      }
    });
    $("#resolve-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      const note = ev.target.note.value.trim();
      if (!note) return say("请填写处理情况。", true);
      const file = ev.target.photo.files[0] || null;
      const problem = checkPhoto(file);
      if (problem) return say(problem, true);
      send("resolved", note, file, ev.submitter);
    });
    $("#cannot-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      const note = ev.target.note.value.trim();
      if (!note) return say("请填写无法处理的原因。", true);
      send("cannot_complete", note, null, ev.submitter);
    });
    window.addEventListener("hashchange", route);

    try {
      const data = await fetch("/field/api/session", { credentials: "same-origin" }).then((r) => r.json());
      csrf = data.csrf;
      member = data.member;
      if (member) await route();
      else view("login-view");
    } catch (e) {
      say("网络不太好，请稍后刷新页面。", true);
    }
  });
})();
