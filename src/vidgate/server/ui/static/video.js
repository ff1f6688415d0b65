// One video: follows a running job to the player, then plays it through a short-lived signed link
// (HTTP Range, so seeking works), shows the spritesheet, the request and any error, and offers
// download, remix, extend (only where the model's capabilities say so) and delete.
"use strict";

(() => {
  const me = VG.start();
  if (!me) return;
  const videoId = document.getElementById("video").dataset.videoId;
  const player = document.getElementById("player");
  const $ = (id) => document.getElementById(id);
  let shown = null;
  let model = null;

  function fact(name, value) {
    return [VG.el("dt", { text: name }), VG.el("dd", { text: value })];
  }

  function showFacts(video) {
    $("title").textContent = video.prompt ? `Video: ${video.prompt}` : `Video ${video.id}`;
    $("facts").replaceChildren(
      ...fact("Status", VG.statusLabel(video.status)),
      ...fact("Model", video.model),
      ...fact("Size", video.size),
      ...fact("Duration", `${video.seconds} s`),
      ...fact("Cost", VG.usd(VG.cost(video))),
      ...fact("Created", `${new Date(video.created_at * 1000).toLocaleString()} (${VG.age(video.created_at)})`),
      ...fact("Id", video.id),
      ...(video.remixed_from_video_id ? fact("Remix of", video.remixed_from_video_id) : []),
    );
    $("prompt").textContent = video.prompt || "(none)";
    $("request").textContent = JSON.stringify(video, null, 2);
    $("error-box").hidden = !video.error;
    if (video.error) $("error").textContent = `${video.error.code || "error"}: ${video.error.message || ""}`;
    $("pending").hidden = VG.TERMINAL.has(video.status);
    $("pending-text").textContent = `${VG.statusLabel(video.status)}, ${video.progress || 0}%`;
    $("progress").value = video.progress || 0;
    $("delete").hidden = !VG.TERMINAL.has(video.status);
  }

  async function showMedia(video) {
    player.src = await VG.mediaLink(video.id, "video");
    player.setAttribute("aria-label", `Video: ${video.prompt || video.id}`);
    player.hidden = false;
    const download = $("download");
    download.href = await VG.mediaLink(video.id, "video");
    download.setAttribute("download", `${video.id}.mp4`);
    download.hidden = false;
    try {
      $("sprite").src = await VG.blobUrl(video.id, "spritesheet");
      $("sprite-box").hidden = false;
    } catch (_) {
      $("sprite-box").hidden = true; // not every provider makes one
    }
  }

  async function showActions(video) {
    const models = await Capabilities.load().catch(() => new Map());
    model = models.get(video.model) || null;
    const done = video.status === "completed";
    $("remix-form").hidden = !(done && Capabilities.maybe(model, "remix"));
    $("extend-form").hidden = !(done && Capabilities.can(model, "extend"));
    if (!$("extend-form").hidden) {
      const seconds = Capabilities.secondsFor(model, video.size);
      $("extend-seconds").replaceChildren(...seconds.map((s) => VG.el("option", { value: s, text: `${s} s` })));
    }
  }

  async function poll() {
    let video;
    try {
      video = await VG.api(`/v1/videos/${encodeURIComponent(videoId)}`);
    } catch (error) {
      VG.say(error.status === 404 ? "No such video (or it was deleted)." : `Could not load: ${error.message}`, true);
      return;
    }
    showFacts(video);
    if (video.status === "completed" && shown !== "completed") await showMedia(video);
    if (shown !== video.status) await showActions(video);
    shown = video.status;
    if (!VG.TERMINAL.has(video.status)) setTimeout(poll, 1000);
  }

  // A media link expires after a while: mint a fresh one and carry on from the same moment.
  player.addEventListener("error", async () => {
    if (shown !== "completed") return;
    const at = player.currentTime;
    player.src = await VG.mediaLink(videoId, "video");
    player.currentTime = at;
  });

  $("remix-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const video = await VG.api(`/v1/videos/${encodeURIComponent(videoId)}/remix`, {
        method: "POST",
        body: { prompt: $("remix-prompt").value },
      });
      location.assign(`/ui/videos/${encodeURIComponent(video.id)}`);
    } catch (error) {
      VG.say(`Remix refused: ${error.message}`, true);
    }
  });

  $("extend-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const video = await VG.api("/v1/videos/extensions", {
        method: "POST",
        body: { prompt: $("extend-prompt").value, seconds: $("extend-seconds").value, video: { id: videoId } },
      });
      location.assign(`/ui/videos/${encodeURIComponent(video.id)}`);
    } catch (error) {
      VG.say(`Extension refused: ${error.message}`, true);
    }
  });

  $("delete").addEventListener("click", async () => {
    if (!confirm("Delete this video? Its files are removed and it leaves the gallery.")) return;
    try {
      await VG.api(`/v1/videos/${encodeURIComponent(videoId)}`, { method: "DELETE" });
      location.assign("/ui/");
    } catch (error) {
      VG.say(`Delete refused: ${error.message}`, true);
    }
  });

  poll();
})();
