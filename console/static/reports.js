// Reports page (reports.html): one click generates a report (POST /console/api/reports), the archive is listed and
// searched from GET /console/api/reports?q=.
(function () {
  const form = document.getElementById("report-form"); if (!form) return;
  const $ = id => document.getElementById(id);
  const api = window.consoleApi;

  function cell(text, cls) { return api.el("td", text, cls); }
  function link(href, text, cls) { const a = api.el("a", text, cls); a.href = href; a.target = "_blank"; a.rel = "noopener"; return a; }
  async function list() {
    const q = new URLSearchParams(new FormData($("report-search")));
    const r = await api.attempt("GET", "/console/api/reports?" + q.toString());
    const body = $("reports").tBodies[0]; body.textContent = "";
    if (!r.ok) { const tr = api.el("tr", "", "empty"); tr.appendChild(cell(r.error)).colSpan = 6; body.appendChild(tr); return; }
    if (!r.data.reports.length) { const tr = api.el("tr", "", "empty"); tr.appendChild(cell("没有找到报表")).colSpan = 6; body.appendChild(tr); }
    r.data.reports.forEach(x => {
      const tr = document.createElement("tr"); tr.dataset.report = x.id;
      const files = cell("");
      files.appendChild(link(`/console/reports/${x.id}.html`, "查看", "open-html"));
      if (x.pdf) { files.append(" "); files.appendChild(link(`/console/reports/${x.id}.pdf`, "PDF", "open-pdf")); }
      else if (x.pdf_error) files.appendChild(api.el("small", " " + x.pdf_error, "muted"));
      tr.append(cell(x.title), cell(`${x.from} 至 ${x.to}`), cell(String(x.contacts), "num"), cell(x.created_by), cell(x.created_at), files);
      body.appendChild(tr);
    });
  }
  form.addEventListener("submit", async e => {
    e.preventDefault();
    const data = Object.fromEntries(new FormData(form).entries());
    $("generate").disabled = true; $("report-status").textContent = "正在生成，请稍候…"; $("report-status").className = "muted";
    const r = await api.attempt("POST", "/console/api/reports", data);
    $("generate").disabled = false;
    if (!r.ok) { $("report-status").textContent = r.error; $("report-status").className = "error-text"; return; }
    $("report-status").textContent = `已生成：${r.data.title}`;
    await list();
  });
  $("report-search").addEventListener("submit", e => { e.preventDefault(); list(); });
  list();
})();
