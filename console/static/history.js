// 会话记录: the filters go in the address (a search can be bookmarked and shared); empty fields are left out,
// and the search box gets the cursor so an agent can type at once.
(function () {
  const form = document.getElementById("history-form"); if (!form) return;
  form.addEventListener("submit", () => {
    form.querySelectorAll("input, select").forEach(el => { if (!el.value) el.disabled = true; });
  });
  const q = document.getElementById("history-q");
  if (q && !q.value) q.focus();
})();
