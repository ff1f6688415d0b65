// Gallery: the key's videos newest first; live status and progress while any job runs.
"use strict";

(() => {
  const me = VG.start();
  if (!me) return;
  const list = document.getElementById("videos");
  const statusFilter = document.getElementById("f-status");
  const modelFilter = document.getElementById("f-model");
  const more = document.getElementById("more");
  const empty = document.getElementById("empty");
  const videos = new Map(); // id -> video, in API order (newest first)
  const thumbs = new Map(); // id -> object URL (or a pending promise)
  let lastId = null;
  let timer = null;

  function card(video) {
    const thumb = thumbs.get(video.id);
    const prompt = video.prompt || "(no prompt)";
    const picture =
      typeof thumb === "string"
        ? VG.el("img", { src: thumb, alt: "", className: "thumb" })
        : VG.el("div", { className: "thumb placeholder", "aria-hidden": "true" });
    const running = !VG.TERMINAL.has(video.status);
    return VG.el(
      "li",
      { className: `card status-${video.status}`, "data-id": video.id, "data-status": video.status },
      VG.el("a", { href: `/ui/videos/${encodeURIComponent(video.id)}`, className: "card-link" },
        picture, VG.el("span", { className: "prompt", text: prompt })),
      VG.el("p", { className: "meta" },
        VG.el("span", { className: "badge", text: VG.statusLabel(video.status) }),
        running ? VG.el("progress", { max: 100, value: video.progress || 0, "aria-label": `Progress of ${prompt}` }) : null,
        running ? VG.el("span", { text: ` ${video.progress || 0}%` }) : null),
      VG.el("p", { className: "meta small",
        text: `${video.model} · ${video.size} · ${video.seconds} s · ${VG.usd(VG.cost(video))} · ${VG.age(video.created_at)}` }),
    );
  }

  function loadThumb(video) {
    if (video.status !== "completed" || thumbs.has(video.id)) return;
    thumbs.set(video.id, null);
    VG.blobUrl(video.id, "thumbnail")
      .then((url) => {
        thumbs.set(video.id, url);
        render();
      })
      .catch(() => thumbs.delete(video.id));
  }

  function render() {
    const wanted = [...videos.values()].filter(
      (v) => (!statusFilter.value || v.status === statusFilter.value) && (!modelFilter.value || v.model === modelFilter.value),
    );
    // keep keyboard focus on the same card across a live refresh
    const focused = document.activeElement && document.activeElement.closest("li.card");
    const focusId = focused ? focused.dataset.id : null;
    list.replaceChildren(...wanted.map(card));
    if (focusId) {
      const again = list.querySelector(`li.card[data-id="${CSS.escape(focusId)}"] a`);
      if (again) again.focus();
    }
    empty.hidden = videos.size > 0;
    const models = new Set([...videos.values()].map((v) => v.model));
    for (const model of models) {
      if (![...modelFilter.options].some((o) => o.value === model)) modelFilter.append(VG.el("option", { value: model, text: model }));
    }
  }

  function merge(page, atEnd) {
    if (atEnd) {
      for (const video of page.data) videos.set(video.id, video);
    } else {
      // a refresh of the newest page: new videos first, updated ones in place
      const fresh = page.data.filter((v) => !videos.has(v.id));
      for (const video of page.data) if (videos.has(video.id)) videos.set(video.id, video);
      const rest = [...videos.entries()];
      videos.clear();
      for (const video of fresh) videos.set(video.id, video);
      for (const [id, video] of rest) videos.set(id, video);
    }
    for (const video of page.data) loadThumb(video);
  }

  async function refresh() {
    try {
      const page = await VG.api("/v1/videos?limit=50&order=desc");
      if (lastId === null) {
        lastId = page.last_id;
        more.hidden = !page.has_more;
      }
      merge(page, false);
      render();
      VG.say("");
    } catch (error) {
      VG.say(`Could not load videos: ${error.message}`, true);
    }
    schedule();
  }

  function schedule() {
    clearTimeout(timer);
    const running = [...videos.values()].some((v) => !VG.TERMINAL.has(v.status));
    timer = setTimeout(refresh, running ? 1500 : 5000);
  }

  more.addEventListener("click", async () => {
    const page = await VG.api(`/v1/videos?limit=50&order=desc&after=${encodeURIComponent(lastId)}`);
    merge(page, true);
    lastId = page.last_id || lastId;
    more.hidden = !page.has_more;
    render();
  });
  statusFilter.addEventListener("change", render);
  modelFilter.addEventListener("change", render);

  if (me.role !== "master") {
    VG.api("/key/info").then((info) => {
      const spend = document.getElementById("spend");
      const budget = info.info.max_budget === null ? "no budget" : `budget ${VG.usd(info.info.max_budget)}`;
      spend.textContent = `Spend: ${VG.usd(info.info.spend)} (${budget}); all time ${VG.usd(info.info.total_spend)}.`;
      spend.hidden = false;
    }).catch(() => {});
  }
  refresh();
})();
