// The customer's photos on the case page: thumbnails linking to the full picture (only agents who may see the
// case get them from the server). Looked up when the page opens and every 10 s while it is open.
(function () {
  const page = document.getElementById("case"), box = document.getElementById("case-photos");
  if (!page || !box) return;
  const thumbs = box.querySelector(".thumbs"), shown = new Set();
  async function refresh() {
    const r = await fetch(`/console/api/cases/${page.dataset.case}/photos`).catch(() => null);
    if (!r || !r.ok) return;
    (await r.json()).forEach(p => {
      if (shown.has(p.id)) return;
      shown.add(p.id);
      const a = document.createElement("a");
      a.href = p.url; a.target = "_blank"; a.rel = "noopener"; a.title = "点开看大图";
      const img = document.createElement("img");
      img.src = p.url; img.alt = "客户发来的照片"; img.loading = "lazy";
      a.appendChild(img);
      thumbs.appendChild(a);
    });
    box.classList.toggle("hidden", shown.size === 0);
  }
  refresh();
  setInterval(refresh, 10000);
})();
