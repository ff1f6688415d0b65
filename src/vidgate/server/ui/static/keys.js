// Admin: virtual keys (create with the secret shown once, edit limits, block, delete).
"use strict";

(() => {
  const me = VG.start({ admin: true });
  if (!me) return;
  const $ = (id) => document.getElementById(id);
  const body = document.querySelector("#keys tbody");
  const dialog = $("edit-dialog");
  let editing = null;

  function number(id, parse) {
    const raw = $(id).value.trim();
    if (!raw) return null;
    const value = parse(raw);
    if (!Number.isFinite(value)) throw new VG.ApiError(400, { error: { message: `'${raw}' is not a number.`, param: id } });
    return value;
  }

  function limit(value) {
    return value === null || value === undefined ? "—" : String(value);
  }

  function row(key) {
    const name = key.key_alias || key.key_name;
    const actions = VG.el("td", { className: "actions" },
      VG.el("button", { type: "button", "data-action": "edit", text: "Edit", "aria-label": `Edit limits of ${name}` }), " ",
      VG.el("button", { type: "button", "data-action": "block", text: key.blocked ? "Unblock" : "Block", "aria-label": `${key.blocked ? "Unblock" : "Block"} ${name}` }), " ",
      VG.el("button", { type: "button", "data-action": "delete", className: "danger", text: "Delete", "aria-label": `Delete ${name}` }));
    const tr = VG.el("tr", { "data-key": key.token },
      VG.el("th", { scope: "row", text: key.key_alias || "—" }),
      VG.el("td", {}, VG.el("code", { text: key.key_name })),
      VG.el("td", { text: key.models.length ? key.models.join(", ") : "all" }),
      VG.el("td", { text: VG.usd(key.spend) }),
      VG.el("td", { text: key.max_budget === null ? "—" : `${VG.usd(key.max_budget)}${key.budget_duration ? ` / ${key.budget_duration}` : ""}` }),
      VG.el("td", { text: limit(key.rpm_limit) }),
      VG.el("td", { text: limit(key.max_parallel_requests) }),
      VG.el("td", { className: key.blocked ? "blocked" : "", text: key.blocked ? "blocked" : "active" }),
      actions);
    actions.addEventListener("click", (event) => act(event, key));
    return tr;
  }

  async function load() {
    try {
      body.replaceChildren(...(await VG.allKeys()).map(row));
    } catch (error) {
      VG.say(`Could not load keys: ${error.message}`, true);
    }
  }

  async function act(event, key) {
    const action = event.target.dataset.action;
    if (!action) return;
    try {
      if (action === "block") {
        await VG.api("/key/update", { method: "POST", body: { key: key.token, blocked: !key.blocked } });
        VG.say(`${key.key_alias || key.key_name} ${key.blocked ? "unblocked" : "blocked"}.`);
      } else if (action === "delete") {
        if (!confirm(`Delete the key ${key.key_alias || key.key_name}? It stops working at once.`)) return;
        await VG.api("/key/delete", { method: "POST", body: { keys: [key.token] } });
        VG.say("Key deleted.");
      } else if (action === "edit") {
        editing = key;
        $("e-alias").value = key.key_alias || "";
        $("e-budget").value = key.max_budget ?? "";
        $("e-rpm").value = key.rpm_limit ?? "";
        $("e-parallel").value = key.max_parallel_requests ?? "";
        dialog.showModal();
        return;
      }
    } catch (error) {
      VG.say(`Refused: ${error.message}`, true);
    }
    load();
  }

  $("edit-key").addEventListener("submit", async (event) => {
    event.preventDefault();
    if (event.submitter && event.submitter.value === "cancel") {
      dialog.close();
      return;
    }
    try {
      await VG.api("/key/update", {
        method: "POST",
        body: {
          key: editing.token,
          key_alias: $("e-alias").value.trim() || null,
          max_budget: number("e-budget", Number),
          rpm_limit: number("e-rpm", (v) => parseInt(v, 10)),
          max_parallel_requests: number("e-parallel", (v) => parseInt(v, 10)),
        },
      });
      dialog.close();
      VG.say("Limits saved.");
      load();
    } catch (error) {
      VG.say(`Refused: ${error.message}`, true);
    }
  });

  $("new-key").addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const fields = {
        key_alias: $("k-alias").value.trim() || null,
        models: [...$("k-models").selectedOptions].map((o) => o.value),
        max_budget: number("k-budget", Number),
        budget_duration: $("k-duration").value.trim() || null,
        rpm_limit: number("k-rpm", (v) => parseInt(v, 10)),
        max_parallel_requests: number("k-parallel", (v) => parseInt(v, 10)),
      };
      for (const name of Object.keys(fields)) if (fields[name] === null) delete fields[name];
      const created = await VG.api("/key/generate", { method: "POST", body: fields });
      $("secret").textContent = created.key;
      $("secret-box").hidden = false;
      $("new-key").reset();
      load();
    } catch (error) {
      VG.say(`Refused${error.param ? ` (${error.param})` : ""}: ${error.message}`, true);
    }
  });

  VG.api("/v1/models").then((reply) => {
    $("k-models").replaceChildren(...reply.data.map((m) => VG.el("option", { value: m.id, text: m.id })));
  });
  load();
})();
