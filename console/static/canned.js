// The 常用语 page (templates/canned.html): the team's and one's own canned replies; add, edit, delete.
(function () {
  const page = document.getElementById("canned-page");
  if (!page) return;
  const $ = id => document.getElementById(id);
  const call = window.consoleApi.attempt;  // {ok, data, error}: a refusal's sentence is said on the page
  let editing = null;

  function say(text, ok) { const p = $("canned-message"); p.textContent = text; p.className = "reply-error" + (ok ? " ok" : ""); }
  function reset() {
    editing = null; $("canned-title").value = ""; $("canned-text").value = "";
    $("canned-form-title").textContent = "新增常用语"; if ($("canned-team")) { $("canned-team").checked = false; $("canned-team").disabled = false; }
  }
  async function refresh() {
    const r = await call("GET", "/console/api/canned");
    const body = $("canned-rows"); body.textContent = "";
    if (!r.ok) { say(r.error); return; }
    r.data.replies.forEach(c => {
      const tr = document.createElement("tr"); tr.dataset.id = c.id;
      const cells = [c.title, c.text, c.team ? "团队" : "个人"].map((v, i) => {
        const td = document.createElement("td"); td.textContent = v; if (i === 1) td.className = "text"; return td;
      });
      const act = document.createElement("td");
      if (c.editable) {
        const edit = document.createElement("button"); edit.type = "button"; edit.className = "edit"; edit.textContent = "编辑";
        edit.onclick = () => {
          editing = c.id; $("canned-title").value = c.title; $("canned-text").value = c.text;
          $("canned-form-title").textContent = "修改常用语：" + c.title;
          if ($("canned-team")) { $("canned-team").checked = c.team; $("canned-team").disabled = true; }
          $("canned-title").focus();
        };
        const del = document.createElement("button"); del.type = "button"; del.className = "delete"; del.textContent = "删除";
        del.onclick = async () => {
          if (!confirm(`删除常用语“${c.title}”？`)) return;
          const d = await call("DELETE", `/console/api/canned/${c.id}`);
          if (!d.ok) { say(d.error); return; }
          say("已删除。", true); if (editing === c.id) reset(); refresh();
        };
        act.append(edit, " ", del);
      }
      tr.append(...cells, act); body.appendChild(tr);
    });
  }
  $("canned-form").addEventListener("submit", async e => {
    e.preventDefault();
    const body = {title: $("canned-title").value, text: $("canned-text").value, team: !!($("canned-team") && $("canned-team").checked)};
    const r = editing ? await call("POST", `/console/api/canned/${editing}`, body) : await call("POST", "/console/api/canned", body);
    if (!r.ok) { say(r.error); return; } // what was typed stays in the form
    say(editing ? "已保存修改。" : "已添加。", true); reset(); refresh();
  });
  $("canned-reset").addEventListener("click", () => { reset(); say(""); });
  refresh();
})();
