// Sign-in: the key is checked against the API, then kept in this tab's sessionStorage only.
"use strict";

(() => {
  const form = document.getElementById("signin");
  const input = document.getElementById("key");
  if (VG.session()) location.replace("/ui/");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const key = input.value.trim();
    if (!key) return;
    VG.say("Checking the key…");
    try {
      await VG.api("/v1/models", { key });
    } catch (error) {
      VG.say(error.status === 401 ? "This key was not accepted." : `Sign-in failed: ${error.message}`, true);
      input.focus();
      return;
    }
    let role = "key";
    let label = "";
    try {
      await VG.api("/key/list?size=1", { key });  // 200: the master key (a page of one: cheap)
      role = "master";
    } catch (error) {
      if (error.status !== 403) {
        VG.say(`Sign-in failed: ${error.message}`, true);
        return;
      }
      const info = await VG.api("/key/info", { key });
      label = info.info.key_alias || info.info.key_name;
    }
    VG.saveSession({ key, role, label });
    input.value = "";
    location.assign("/ui/");
  });
})();
