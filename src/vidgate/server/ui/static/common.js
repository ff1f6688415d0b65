// Shared by every dashboard page: the session (sessionStorage only), API calls with the
// Authorization header, small DOM helpers and the page chrome (who is signed in, admin links).
"use strict";

const VG = (() => {
  const STORE = "vidgate.session";
  const TERMINAL = new Set(["completed", "failed"]);

  function session() {
    try {
      const value = JSON.parse(sessionStorage.getItem(STORE) || "null");
      return value && typeof value.key === "string" ? value : null;
    } catch (_) {
      return null;
    }
  }

  function saveSession(value) {
    sessionStorage.setItem(STORE, JSON.stringify(value));
  }

  function signOut() {
    sessionStorage.removeItem(STORE);
    location.assign("/ui/signin");
  }

  class ApiError extends Error {
    constructor(status, body) {
      const err = body && body.error ? body.error : {};
      super(err.message || `HTTP ${status}`);
      this.status = status;
      this.code = err.code || null;
      this.param = err.param || null;
    }
  }

  async function errorOf(reply) {
    let body = null;
    try {
      body = await reply.json();
    } catch (_) {
      body = null;
    }
    return new ApiError(reply.status, body);
  }

  // fetch() with the signed-in key; JSON in and out. `raw` returns the Response (for bytes).
  async function api(path, options = {}) {
    const key = options.key || (session() || {}).key;
    const headers = { Authorization: `Bearer ${key}` };
    let body;
    if (options.body !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(options.body);
    }
    const reply = await fetch(path, {
      method: options.method || "GET",
      headers,
      body,
      cache: "no-store",
      credentials: "omit",
    });
    if (!reply.ok) {
      const error = await errorOf(reply);
      if (reply.status === 401 && !options.key) signOut();
      throw error;
    }
    if (options.raw) return reply;
    const text = await reply.text();
    return text ? JSON.parse(text) : null;
  }

  // Every key, newest first: GET /key/list answers a page at a time (LiteLLM's: at most 100 keys).
  async function allKeys() {
    const keys = [];
    let pages = 1;
    for (let page = 1; page <= pages; page++) {
      const reply = await api(`/key/list?return_full_object=true&size=100&page=${page}`);
      keys.push(...reply.keys);
      if (page === 1) pages = reply.total_pages;
    }
    return keys;
  }

  // An object URL for one content variant, fetched with the Authorization header.
  async function blobUrl(videoId, variant) {
    const reply = await api(`/v1/videos/${encodeURIComponent(videoId)}/content?variant=${variant}`, { raw: true });
    return URL.createObjectURL(await reply.blob());
  }

  // A short-lived, owner-scoped URL a <video> can seek in with HTTP Range (no key in it).
  async function mediaLink(videoId, variant) {
    const link = await api("/ui/media", { method: "POST", body: { video_id: videoId, variant } });
    return link.url;
  }

  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs)) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "text") node.textContent = value;
      else if (name === "className") node.className = value;
      else node.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of children) {
      if (child !== null && child !== undefined) node.append(child);
    }
    return node;
  }

  function say(message, isError = false) {
    const status = document.getElementById("status");
    status.textContent = message;
    status.classList.toggle("error", isError);
  }

  function usd(value) {
    if (value === null || value === undefined) return "—";
    return `$${Number(value).toFixed(4).replace(/0{1,2}$/, "")}`; // $0.20, $0.0125
  }

  function age(unixSeconds) {
    const secs = Math.max(0, Math.round(Date.now() / 1000 - unixSeconds));
    if (secs < 60) return `${secs} s ago`;
    if (secs < 3600) return `${Math.floor(secs / 60)} min ago`;
    if (secs < 86400) return `${Math.floor(secs / 3600)} h ago`;
    return `${Math.floor(secs / 86400)} d ago`;
  }

  function statusLabel(status) {
    return status.replace("_", " ");
  }

  function cost(video) {
    return video.usage && video.usage.cost !== undefined ? video.usage.cost : null;
  }

  // The page chrome; returns the session, or redirects to sign in (or home for a non-admin).
  function start(options = {}) {
    const current = session();
    if (!current) {
      location.replace("/ui/signin");
      return null;
    }
    if (options.admin && current.role !== "master") {
      location.replace("/ui/");
      return null;
    }
    document.getElementById("who").textContent =
      current.role === "master" ? "Master key" : `Key ${current.label || ""}`.trim();
    for (const item of document.querySelectorAll("[data-admin]")) item.hidden = current.role !== "master";
    const button = document.getElementById("signout");
    button.hidden = false;
    button.addEventListener("click", signOut);
    return current;
  }

  return {
    TERMINAL, session, saveSession, api, allKeys, ApiError, blobUrl, mediaLink, el, say, usd, age,
    statusLabel, cost, start,
  };
})();
