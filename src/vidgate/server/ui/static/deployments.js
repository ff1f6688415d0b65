// Admin: deployments with their health and cooldowns, lifecycle warnings, and readiness.
"use strict";

(() => {
  const me = VG.start({ admin: true });
  if (!me) return;
  const $ = (id) => document.getElementById(id);

  async function load() {
    try {
      const reply = await VG.api("/admin/deployments");
      $("warnings").replaceChildren(
        ...reply.data.filter((d) => d.warning).map((d) => VG.el("li", { className: "warning", text: d.warning })),
      );
      if (!$("warnings").children.length) $("warnings").append(VG.el("li", { text: "None: every configured model is active." }));
      document.querySelector("#deployments tbody").replaceChildren(
        ...reply.data.map((d) =>
          VG.el("tr", {},
            VG.el("th", { scope: "row", text: d.model_name }),
            VG.el("td", { text: d.provider }),
            VG.el("td", {}, VG.el("code", { text: d.model })),
            VG.el("td", { className: d.healthy ? "ok" : "blocked", text: d.healthy ? "healthy" : `cooling down, ${d.cooldown_seconds} s left` }),
            VG.el("td", { text: d.in_flight }),
            VG.el("td", { text: d.rpm ?? "—" }),
            VG.el("td", { text: d.weight }),
            VG.el("td", { text: d.lifecycle + (d.retires_on ? ` (retires ${d.retires_on})` : "") }))),
      );
    } catch (error) {
      VG.say(`Could not load deployments: ${error.message}`, true);
    }
    const ready = await fetch("/health/readiness", { cache: "no-store", credentials: "omit" });
    const health = await ready.json();
    $("readiness").textContent = `Readiness: ${health.status}${health.failing ? ` (failing: ${health.failing.join(", ")})` : ""}.`;
    setTimeout(load, 5000);
  }

  load();
})();
