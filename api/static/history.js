// History page and clip cards (issue 18). Everything is delegated from `document`, so it works for
// cards swapped in later (boosted navigation, the filters' htmx updates, live cards turning done)
// and never binds twice. The page works without it: the filters are a GET form, the download menu
// is a <details>.
(function () {
  "use strict";

  // ---- download menus: one open at a time; Escape or a click elsewhere closes them ----
  function closeMenus(except) {
    document.querySelectorAll("details.download[open]").forEach((menu) => {
      if (menu !== except) menu.open = false;
    });
  }

  document.addEventListener("toggle", (event) => {
    const menu = event.target;
    if (menu.matches && menu.matches("details.download") && menu.open) closeMenus(menu);
  }, true);

  document.addEventListener("click", (event) => {
    const inside = event.target.closest && event.target.closest("details.download");
    if (!inside) closeMenus(null);
    else if (event.target.closest(".menu a")) inside.open = false; // a format was chosen
  });

  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    const menu = event.target.closest && event.target.closest("details.download[open]");
    if (!menu) return;
    menu.open = false;
    menu.querySelector("summary").focus();
  });

  // ---- the waveform button says whether its clip is the one playing in the playbar ----
  function markPlaying() {
    const bar = document.getElementById("playbar-audio");
    const src = bar && !bar.paused ? bar.dataset.src : "";
    document.querySelectorAll("button.wave[data-play]").forEach((button) => {
      button.setAttribute("aria-pressed", src && button.dataset.src === src ? "true" : "false");
    });
  }

  for (const name of ["play", "pause", "ended", "emptied"]) {
    document.addEventListener(name, (event) => {
      if (event.target && event.target.id === "playbar-audio") markPlaying();
    }, true);
  }

  // ... and fills with the part already heard (--played, 0 to 1, drawn by history.css).
  document.addEventListener("timeupdate", (event) => {
    const bar = event.target;
    if (!bar || bar.id !== "playbar-audio" || !bar.duration) return;
    const played = Math.min(1, bar.currentTime / bar.duration).toFixed(3);
    document.querySelectorAll("button.wave[data-play]").forEach((button) => {
      if (button.dataset.src === bar.dataset.src) button.style.setProperty("--played", played);
      else button.style.removeProperty("--played");
    });
  }, true);
  document.addEventListener("htmx:load", markPlaying);
  document.addEventListener("DOMContentLoaded", markPlaying);
})();
