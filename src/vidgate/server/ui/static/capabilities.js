// What each model this key may use accepts and costs, from the capabilities endpoint
// GET /v1/videos/models (sizes with their resolution and durations, features, prices per tier as
// decimal strings, lifecycle). A model with open sizes (none listed), or any model when only the ids
// of GET /v1/models can be read, gets free values and no price; the API judges the request.
"use strict";

const Capabilities = (() => {
  let cached = null;

  // "0.125" -> 125000 micro-dollars, exactly (no float arithmetic on money)
  function micros(text) {
    const match = /^(\d+)(?:\.(\d{0,6})\d*)?$/.exec(String(text));
    if (!match) return null;
    return Number(match[1]) * 1000000 + Number((match[2] || "").padEnd(6, "0"));
  }

  function normalise(entry) {
    const sizes = Array.isArray(entry.sizes) ? entry.sizes.filter((s) => s && typeof s.size === "string") : [];
    const pricing = entry.pricing || {};
    return {
      id: entry.id,
      known: sizes.length > 0,
      sizes: sizes.map((s) => s.size),
      tiers: new Map(sizes.map((s) => [s.size, s.resolution])),
      durations: new Map(sizes.map((s) => [s.size, s.durations || entry.supported_durations || []])),
      seconds: entry.supported_durations || [],
      defaultSize: entry.default_size || (sizes[0] || {}).size || "",
      defaultSeconds: entry.default_duration || null,
      features: new Set(entry.features || []),
      knownFeatures: Array.isArray(entry.features),
      perSecond: pricing.per_second || {},
      perVideo: pricing.per_video || "0",
      lifecycle: entry.lifecycle ? entry.lifecycle.status : null,
    };
  }

  async function load() {
    if (cached) return cached;
    let data = null;
    try {
      data = (await VG.api("/v1/videos/models")).data;
    } catch (error) {
      if (error.status === 401) throw error;
    }
    if (!Array.isArray(data)) data = (await VG.api("/v1/models")).data;
    cached = new Map(data.map((entry) => [entry.id, normalise(entry)]));
    return cached;
  }

  function secondsFor(model, size) {
    return model.durations.get(size) || model.seconds;
  }

  // Micro-dollars for one video of `seconds` at `size`, or null when no price is published.
  function price(model, size, seconds) {
    const tier = model.tiers.get(size);
    const rate = tier === undefined ? undefined : model.perSecond[tier];
    if (rate === undefined) return null;
    const perSecond = micros(rate);
    const perVideo = micros(model.perVideo) || 0;
    if (perSecond === null || !/^\d+$/.test(String(seconds))) return null;
    return perSecond * Number(seconds) + perVideo;
  }

  function can(model, feature) {
    return Boolean(model && model.knownFeatures && model.features.has(feature));
  }

  function maybe(model, feature) {
    return !model || !model.knownFeatures || model.features.has(feature);
  }

  return { load, normalise, price, secondsFor, can, maybe, micros };
})();
