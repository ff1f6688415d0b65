// What each model this key may use accepts and costs, from GET /v1/videos/models (the capabilities
// endpoint). Where a gateway does not serve it, the model names from GET /v1/models, with nothing
// known about sizes, durations, features or prices (the form then takes free values and the API
// judges them).
"use strict";

const Capabilities = (() => {
  let cached = null;

  function tierOf(entry, size) {
    const sizes = entry.sizes;
    if (sizes && !Array.isArray(sizes) && sizes[size]) return sizes[size];
    const table = entry.size_resolutions || entry.resolution_by_size || null;
    if (table && table[size]) return table[size];
    const dims = String(size).split("x").map(Number);
    return dims.length === 2 && dims.every((d) => d > 0) ? `${Math.min(...dims)}p` : null;
  }

  function normalise(entry) {
    const sizes = Array.isArray(entry.sizes) ? entry.sizes : Object.keys(entry.sizes || {});
    const seconds = (entry.seconds || entry.durations || []).map(Number);
    return {
      id: entry.id,
      known: sizes.length > 0,
      sizes,
      seconds,
      defaultSize: entry.default_size || sizes[0] || "",
      defaultSeconds: Number(entry.default_seconds || seconds[0] || 0),
      features: new Set(entry.features || []),
      knownFeatures: Array.isArray(entry.features),
      pricePerSecond: entry.price_per_second || entry.prices || {},
      pricePerVideo: Number(entry.price_per_video || 0),
      lifecycle: entry.lifecycle || null,
      raw: entry,
    };
  }

  async function load() {
    if (cached) return cached;
    let data = null;
    try {
      const reply = await VG.api("/v1/videos/models");
      if (reply && Array.isArray(reply.data) && reply.data.every((m) => m && m.id && (m.sizes || m.seconds))) data = reply.data;
    } catch (error) {
      if (error.status === 401) throw error;
    }
    if (!data) data = (await VG.api("/v1/models")).data.map((m) => ({ id: m.id }));
    cached = new Map(data.map((entry) => [entry.id, normalise(entry)]));
    return cached;
  }

  // USD for one video, or null when the model's prices are not known.
  function price(model, size, seconds) {
    const rates = model.pricePerSecond;
    if (!model.known || !rates || typeof rates !== "object") return null;
    const tier = tierOf(model.raw, size);
    let rate = rates[tier];
    if (rate && typeof rate === "object") rate = rate.usd ?? rate.price ?? null;
    if (rate === undefined || rate === null) return Object.keys(rates).length ? null : model.pricePerVideo;
    return Number(rate) * Number(seconds) + model.pricePerVideo;
  }

  function can(model, feature) {
    return Boolean(model && model.knownFeatures && model.features.has(feature));
  }

  function maybe(model, feature) {
    return !model || !model.knownFeatures || model.features.has(feature);
  }

  return { load, price, can, maybe };
})();
