// Playground: a create form built from the capabilities of the models this key may use, with the
// price shown before submitting; a created video is followed on its own page to the player.
"use strict";

(() => {
  const me = VG.start();
  if (!me) return;
  const $ = (id) => document.getElementById(id);
  let models = new Map();

  function swap(id, known, values, chosen, label) {
    // a select of the model's values, or a free text input when they are not known
    const old = $(id);
    if (!known && old.tagName === "INPUT") return; // free text stays as typed
    const node = known
      ? VG.el("select", { id, required: true }, ...values.map((v) => VG.el("option", { value: v, text: label(v), selected: String(v) === String(chosen) })))
      : VG.el("input", { id, required: true, autocomplete: "off", value: old.value || "" });
    node.addEventListener("change", showPrice);
    node.addEventListener("input", showPrice);
    old.replaceWith(node);
  }

  function chooseModel() {
    const model = models.get($("model").value);
    if (!model) return;
    swap("size", model.known, model.sizes, model.defaultSize, (s) => `${s} (${model.tiers.get(s)})`);
    $("size").addEventListener("change", chooseSize);
    $("features").textContent = model.knownFeatures
      ? `Features: ${[...model.features].sort().join(", ") || "none"}${model.lifecycle && model.lifecycle !== "active" ? ` · ${model.lifecycle}` : ""}`
      : "";
    chooseSize();
  }

  function chooseSize() {
    const model = models.get($("model").value);
    const previous = $("seconds").value || model.defaultSeconds;
    const allowed = Capabilities.secondsFor(model, $("size").value);
    const chosen = allowed.map(String).includes(String(previous)) ? previous : model.defaultSeconds || allowed[0];
    swap("seconds", model.known && allowed.length > 0, allowed, chosen, (s) => `${s} s`);
    showPrice();
  }

  function showPrice() {
    const model = models.get($("model").value);
    if (!model) return;
    const micros = Capabilities.price(model, $("size").value, $("seconds").value);
    $("price").textContent =
      micros === null ? "Price: not published for this model." : `Price: ${VG.usd(micros / 1e6)} for this video.`;
  }

  $("model").addEventListener("change", chooseModel);
  $("create").addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = event.submitter || $("create").querySelector("button");
    button.disabled = true;
    VG.say("Starting the video…");
    try {
      const video = await VG.api("/v1/videos", {
        method: "POST",
        body: { model: $("model").value, prompt: $("prompt").value, size: $("size").value, seconds: String($("seconds").value) },
      });
      location.assign(`/ui/videos/${encodeURIComponent(video.id)}`);
    } catch (error) {
      VG.say(`Refused${error.param ? ` (${error.param})` : ""}: ${error.message}`, true);
      button.disabled = false;
    }
  });

  Capabilities.load()
    .then((loaded) => {
      models = loaded;
      $("model").replaceChildren(...[...models.keys()].map((id) => VG.el("option", { value: id, text: id })));
      if (!models.size) VG.say("This key may use no model.", true);
      chooseModel();
    })
    .catch((error) => VG.say(`Could not load the models: ${error.message}`, true));
})();
