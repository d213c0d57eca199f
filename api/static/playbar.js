// The persistent playbar: one <audio> outside the swapped page (#shell), so a clip keeps playing
// while the user moves between pages by boosted navigation. A clip card's own player hands over to
// it: when a card's <audio> starts, it is paused and the bar plays the same file from the same
// point. Elements with data-play (e.g. waveform thumbnails) start the bar directly. Only one thing
// plays at a time: a voice preview or a live (streamed) clip pauses the bar.
(function () {
  "use strict";

  const bar = () => document.getElementById("playbar");
  const audio = () => document.getElementById("playbar-audio");

  function clock(seconds) {
    if (!isFinite(seconds) || seconds < 0) return "0:00";
    const s = Math.floor(seconds);
    return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
  }

  // What the bar shows for a clip: from the element that asked, else from its card.
  function describe(el) {
    const card = el.closest && el.closest("article.clip");
    const pick = (name) => el.dataset[name] || (card && card.dataset[name]) || "";
    const clip = pick("clip") || (card ? card.id.replace(/^clip-/, "") : "");
    const title = pick("title") || (card && (card.querySelector("p.text") || {}).textContent || "").trim().slice(0, 80);
    const src = el.dataset.src || el.currentSrc || el.getAttribute("src") || "";
    return { src, clip, title: title || "Clip", download: pick("download") || downloadFor(src) };
  }

  function downloadFor(src) {
    if (!src) return "";
    const url = new URL(src, location.href);
    url.searchParams.set("download", "true");
    return url.pathname + url.search;
  }

  function show(info) {
    const root = bar();
    root.hidden = false;
    document.body.classList.add("has-playbar");
    const title = root.querySelector(".title");
    title.textContent = info.title;
    title.href = info.clip ? "/history#clip-" + info.clip : "/history";
    const download = root.querySelector(".download");
    download.href = info.download || info.src;
  }

  function play(info, at, muted) {
    const a = audio();
    const same = a.dataset.src === info.src;
    show(info);
    a.dataset.clip = info.clip;
    if (!same) {
      a.dataset.src = info.src;
      a.src = info.src;
    }
    if (muted !== undefined) a.muted = muted;
    const start = () => {
      if (at !== undefined && Math.abs(a.currentTime - at) > 0.25) a.currentTime = at;
      return a.play().catch((err) => console.warn("playbar:", err));
    };
    return same || a.readyState >= 1 ? start() : new Promise((ok) => a.addEventListener("loadedmetadata", () => ok(start()), { once: true }));
  }

  function stop() {
    const a = audio();
    if (!a) return;
    a.pause();
    a.removeAttribute("src");
    delete a.dataset.src;
    delete a.dataset.clip;
    a.load();
    bar().hidden = true;
    document.body.classList.remove("has-playbar");
  }

  function render() {
    const a = audio(), root = bar();
    if (!a || !root) return;
    const playing = !a.paused && !a.ended;
    root.classList.toggle("playing", playing);
    const toggle = root.querySelector(".play-toggle");
    toggle.setAttribute("aria-label", playing ? "Pause" : "Play");
    root.querySelector(".elapsed").textContent = clock(a.currentTime);
    root.querySelector(".total").textContent = clock(a.duration);
    const seek = root.querySelector(".seek");
    if (!seek.matches(":active")) seek.value = a.duration ? Math.round((a.currentTime / a.duration) * 1000) : 0;
    seek.setAttribute("aria-valuetext", clock(a.currentTime) + " of " + clock(a.duration));
  }

  // A card's player (or anything else) starting: hand clips over, pause the bar for the rest.
  document.addEventListener("play", (event) => {
    const el = event.target, a = audio();
    if (!a || el === a) return;
    if (el.closest && el.closest("article.clip") && (el.currentSrc || el.getAttribute("src"))) {
      const at = el.currentTime, muted = el.muted;
      el.pause();
      play(describe(el), at, muted);
    } else {
      a.pause(); // a voice preview
    }
  }, true);

  document.addEventListener("click", (event) => {
    const trigger = event.target.closest && event.target.closest("[data-play]");
    if (trigger) {
      event.preventDefault();
      const info = describe(trigger), a = audio();
      if (a.dataset.src === info.src && !a.paused) a.pause();
      else play(info);
      return;
    }
    const root = bar();
    if (!root || !root.contains(event.target)) return;
    if (event.target.closest(".play-toggle")) {
      const a = audio();
      if (a.paused) a.play().catch(() => {}); else a.pause();
    } else if (event.target.closest(".close")) {
      stop();
    }
  });

  document.addEventListener("input", (event) => {
    if (!event.target.matches || !event.target.matches("#playbar .seek")) return;
    const a = audio();
    if (a.duration) a.currentTime = (event.target.value / 1000) * a.duration;
  });

  function wire() {
    const a = audio();
    if (!a || a.dataset.wired) return;
    a.dataset.wired = "1";
    for (const name of ["play", "pause", "timeupdate", "durationchange", "ended", "loadedmetadata", "seeked"]) {
      a.addEventListener(name, render);
    }
  }

  // A page swap: keep playing (htmx moves the preserved bar; a browser without moveBefore may
  // pause it on the way), stop when the new page is signed out.
  let wasPlaying = false;
  document.addEventListener("htmx:beforeSwap", () => {
    const a = audio();
    wasPlaying = !!(a && !a.paused);
  });
  document.addEventListener("htmx:afterSettle", () => {
    const a = audio();
    if (!a) return;
    if (!document.querySelector("#shell[data-user]")) { stop(); return; }
    if (wasPlaying && a.paused) a.play().catch(() => {});
    wasPlaying = false;
    if (a.dataset.src) { bar().hidden = false; document.body.classList.add("has-playbar"); render(); }
  });

  document.addEventListener("DOMContentLoaded", wire);
  document.addEventListener("htmx:load", wire);
  window.studioPlaybar = { play, stop };
})();
