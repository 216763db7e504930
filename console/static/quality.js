// The inspection pages (templates/quality_contact.html, quality_sample.html): a reviewer's verdict on a flag
// (确认有问题 / 误报, with an optional note) and on a sampled contact (没有问题 / 漏检: <rule>), drawing more
// contacts into the sample (抽取样本, then the page reloads to list them), sent through
// consoleApi (console.js: CSRF token, refusals in Chinese) and shown in place without reloading.
(function () {
  const api = window.consoleApi;
  const message = document.getElementById("review-message");
  const say = text => { if (message) message.textContent = text; };

  document.querySelectorAll(".flag-card").forEach(card => {
    card.querySelectorAll("button[data-verdict]").forEach(button => {
      button.addEventListener("click", async () => {
        const note = card.querySelector(".review-note").value.trim();
        const r = await api.attempt("POST", `/console/api/quality/flags/${card.dataset.flag}/review`,
                                    {verdict: button.dataset.verdict, note: note || null});
        if (!r.ok) { say(r.error); return; }
        const f = r.data.flag, verdict = card.querySelector(".verdict");
        verdict.dataset.state = f.review;
        verdict.textContent = `复核：${f.review_label}（${f.reviewer}）` + (f.note ? `，备注：${f.note}` : "");
        say(`已保存：${f.rule_name}——${f.review_label}。`);
      });
    });
  });

  const draw = document.getElementById("draw-sample");
  if (draw) {
    draw.addEventListener("submit", async event => {
      event.preventDefault();
      const count = Number(document.getElementById("draw-count").value);
      const r = await api.attempt("POST", "/console/api/quality/sample/draw", {count});
      if (!r.ok) { say(r.error); return; }
      say(r.data.message);
      if (r.data.drawn.length) window.location.assign("/console/quality/sample?review=pending");
    });
  }

  document.querySelectorAll("#quality-sample tr[data-inspection]").forEach(row => {
    const save = row.querySelector(".save-sample");
    if (!save) return;
    save.addEventListener("click", async () => {
      const select = row.querySelector(".missed"), note = row.querySelector(".review-note").value.trim();
      const r = await api.attempt("POST", `/console/api/quality/sample/${row.dataset.inspection}`,
                                  {missed_rule: select.value || null, note: note || null});
      if (!r.ok) { say(r.error); return; }
      const label = select.value ? select.options[select.selectedIndex].textContent : "没有问题";
      row.querySelector(".sample-state").textContent = label;
      say(`已保存：${label}。`);
    });
  });
})();
