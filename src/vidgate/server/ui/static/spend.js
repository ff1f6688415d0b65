// Admin: spend per key and per model per day, from GET /spend/logs, as stacked bar charts.
"use strict";

(() => {
  const me = VG.start({ admin: true });
  if (!me) return;
  const $ = (id) => document.getElementById(id);

  function isoDay(date) {
    return date.toISOString().slice(0, 10);
  }

  async function load() {
    const count = Number($("days").value);
    const start = new Date(Date.now() - (count - 1) * 86400000);
    const days = [];
    for (let i = 0; i < count; i++) days.push(isoDay(new Date(start.getTime() + i * 86400000)));
    let logs;
    let keys;
    try {
      [logs, keys] = await Promise.all([
        VG.api(`/spend/logs?start_date=${days[0]}&limit=10000`),
        VG.allKeys(),
      ]);
    } catch (error) {
      VG.say(`Could not load spend: ${error.message}`, true);
      return;
    }
    const names = new Map(keys.map((k) => [k.token, k.key_alias || k.key_name]));
    const byKey = new Map();
    const byModel = new Map();
    let total = 0;
    for (const entry of logs) {
      const day = entry.startTime.slice(0, 10);
      const key = entry.api_key === "master" ? "master key" : names.get(entry.api_key) || `${entry.api_key} (deleted)`;
      for (const [table, name] of [[byKey, key], [byModel, entry.model]]) {
        if (!table.has(name)) table.set(name, new Map());
        table.get(name).set(day, (table.get(name).get(day) || 0) + entry.spend);
      }
      total += entry.spend;
    }
    $("total").textContent = `${VG.usd(total)} over ${count} days in ${logs.length} charged videos.`;
    Chart.stacked($("by-key"), "Spend per key and day", days, byKey);
    Chart.stacked($("by-model"), "Spend per model and day", days, byModel);
  }

  $("days").addEventListener("change", load);
  load();
})();
