// The Voices page: filter the stock voices as you type (the filter form still works without
// JavaScript), and one preview at a time. Delegated on document, so it works however the page
// arrived (a full load or boosted navigation).
(function () {
  "use strict";

  function filter() {
    const search = document.getElementById("voice-search");
    if (!search) return;
    const accent = document.getElementById("accent-filter"), gender = document.getElementById("gender-filter");
    const q = search.value.trim().toLowerCase();
    let shown = 0;
    document.querySelectorAll("#stock-voices .stock-voice").forEach((li) => {
      const show = (!q || li.dataset.search.includes(q)) && (!accent.value || li.dataset.accent === accent.value) &&
        (!gender.value || li.dataset.gender === gender.value);
      li.hidden = !show;
      shown += show;
    });
    document.getElementById("no-match").hidden = shown > 0;
  }

  document.addEventListener("input", (event) => { if (event.target.id === "voice-search") filter(); });
  document.addEventListener("change", (event) => {
    if (event.target.id === "accent-filter" || event.target.id === "gender-filter") filter();
  });
  document.addEventListener("submit", (event) => {
    if (event.target.id === "voice-filter") { event.preventDefault(); filter(); }
  }, true);

  function setUp(root) {
    const button = root.querySelector && root.querySelector("#filter-button");
    if (button) button.hidden = true; // filtering is live
  }
  document.addEventListener("DOMContentLoaded", () => setUp(document));
  document.addEventListener("htmx:load", (event) => setUp(event.target));

  // One preview plays at a time.
  document.addEventListener("play", (event) => {
    if (!event.target.classList || !event.target.classList.contains("voice-preview")) return;
    document.querySelectorAll("audio.voice-preview").forEach((a) => { if (a !== event.target) a.pause(); });
  }, true);
})();
