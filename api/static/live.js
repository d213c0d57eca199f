// Live clip cards: each unfinished card listens to its clip's server-sent events (api/clip_events.py)
// instead of polling. "progress" moves the bar (smoothly between the worker's reports), "part"
// hands a just-made piece of speech to the card's player, "done" swaps in the finished card.
//
// The player decodes each part (WAV) and schedules it on one AudioContext right after the one
// before, so the first sentence plays while the rest is rendered and the parts join without gaps
// (they are consecutive samples of the finished clip). Only a card made by a click here plays
// ("data-listen"): the AudioContext is unlocked by that click, and a reload should not talk.
(function () {
  "use strict";

  let context = null;
  function audioContext() {
    if (!context) context = new (window.AudioContext || window.webkitAudioContext)();
    return context;
  }

  // The generate button's click is the user gesture that lets the page play sound later.
  document.addEventListener("submit", (event) => {
    if (event.target.matches && event.target.matches("form[data-live-audio]")) audioContext().resume();
  }, true);

  const timing = (window.studioLive = { clicks: [], firstAudio: [] }); // read by bench/site_latency.py
  document.addEventListener("click", (event) => {
    if (event.target.closest && event.target.closest("form[data-live-audio] button[type=submit]")) {
      timing.clicks.push(performance.now());
    }
  }, true);

  const players = new Set(); // live players with sound scheduled: one thing plays at a time

  class PartPlayer {
    constructor(card) {
      this.card = card;
      this.parts = [];
      this.next = 0;
      this.at = 0;
      this.sources = [];
      this.pumping = false;
    }

    add(part) {
      if (this.parts[part.index]) return;
      const ctx = audioContext();
      this.parts[part.index] = fetch(part.url, { credentials: "same-origin" })
        .then((r) => (r.ok ? r.arrayBuffer() : Promise.reject(new Error(r.statusText))))
        .then((bytes) => ctx.decodeAudioData(bytes));
      this.pump();
    }

    async pump() {
      if (this.pumping) return;
      this.pumping = true;
      try {
        while (this.parts[this.next]) {
          const buffer = await this.parts[this.next];
          this.schedule(buffer);
          this.next += 1;
        }
      } catch (err) {
        console.warn("live playback stopped:", err);
      } finally {
        this.pumping = false;
      }
    }

    schedule(buffer) {
      const ctx = audioContext();
      const source = ctx.createBufferSource();
      source.buffer = buffer;
      source.connect(ctx.destination);
      const soonest = ctx.currentTime + 0.02;
      const first = this.sources.length === 0;
      if (this.at < soonest) this.at = soonest; // the first part, or the next was late: play it now
      source.start(this.at);
      if (first) {
        players.add(this);
        const bar = document.getElementById("playbar-audio");
        if (bar) bar.pause();
        const latency = (ctx.outputLatency || ctx.baseLatency || 0) * 1000;
        timing.firstAudio.push(performance.now() + (this.at - ctx.currentTime) * 1000 + latency);
        this.card.classList.add("playing");
      }
      this.at += buffer.duration;
      this.sources.push(source);
      source.onended = () => {
        if (this.sources[this.sources.length - 1] === source) this.ended();
      };
    }

    ended() {
      const card = document.getElementById(this.card.id) || this.card;
      card.classList.remove("playing");
    }

    stop() {
      players.delete(this);
      for (const source of this.sources) {
        try { source.stop(); } catch (err) { /* not started yet */ }
      }
      this.sources = [];
    }
  }

  // The bar moves between the worker's reports: toward the next report's value, at the pace the
  // last reports came, never reaching it (the report itself does).
  function animate(card, state) {
    const bar = card.querySelector("progress");
    if (!bar) return;
    const now = performance.now();
    const step = state.progress - (state.previous ?? state.progress);
    const pace = state.lastAt ? now - state.lastAt : 0;
    state.previous = state.progress;
    state.lastAt = now;
    bar.value = state.progress;
    cancelAnimationFrame(state.frame);
    if (step <= 0 || pace <= 0 || state.progress >= 0.9) return;
    const target = Math.min(0.9, state.progress + step * 0.95);
    const tick = () => {
      const t = Math.min(1, (performance.now() - now) / pace);
      bar.value = state.progress + (target - state.progress) * (1 - Math.pow(1 - t, 2));
      if (t < 1) state.frame = requestAnimationFrame(tick);
    };
    state.frame = requestAnimationFrame(tick);
  }

  function showProgress(card, data, state) {
    card.dataset.stage = data.stage;
    card.className = "clip " + data.stage + (card.classList.contains("playing") ? " playing" : "");
    const badge = card.querySelector(".badge");
    if (badge) { badge.textContent = data.stage; badge.className = "badge " + data.stage; }
    const detail = card.querySelector(".detail");
    if (detail) detail.textContent = data.detail || "";
    state.progress = data.progress;
    animate(card, state);
  }

  function finish(card, html, player) {
    const holder = document.createElement("div");
    holder.innerHTML = html.trim();
    const done = holder.firstElementChild;
    if (!done) return;
    if (player && player.sources.length) {
      if (card.classList.contains("playing")) done.classList.add("playing");
      player.card = done;
      // The finished clip plays as one file from here on: its own player takes over when used.
      done.addEventListener("play", () => player.stop(), true);
    }
    card.replaceWith(done);
    if (window.htmx) {
      window.htmx.process(done);
      window.htmx.trigger(document.body, "balance-changed");
    }
  }

  // A browser opens at most 6 connections to a site over HTTP/1.1 and an event stream holds one,
  // so a few cards stream and the rest poll their status now and then until a stream is free.
  const MAX_STREAMS = 3;
  const POLL_MS = 2000;
  let streams = 0;
  const waiting = [];
  const open = new Map(); // card -> release(): streams to close when their card leaves the page

  function connect(card) {
    if (card.dataset.connected) return;
    card.dataset.connected = "1";
    if (streams >= MAX_STREAMS) {
      waiting[card.hasAttribute("data-listen") ? "unshift" : "push"](card);
      setTimeout(() => poll(card), POLL_MS);
      return;
    }
    streams += 1;
    const player = card.hasAttribute("data-listen") ? new PartPlayer(card) : null;
    const state = {};
    const source = new EventSource(card.dataset.events);
    const release = () => {
      if (!open.delete(card)) return;
      source.close();
      streams -= 1;
      const next = waiting.shift();
      if (next && next.isConnected) { delete next.dataset.connected; connect(next); }
    };
    open.set(card, release);
    source.addEventListener("progress", (e) => showProgress(card, JSON.parse(e.data), state));
    source.addEventListener("part", (e) => player && player.add(JSON.parse(e.data)));
    source.addEventListener("done", (e) => {
      release();
      cancelAnimationFrame(state.frame);
      finish(card, e.data, player);
    });
    source.addEventListener("error", () => {
      if (!card.isConnected) release(); // the card was removed (deleted, navigated away)
    });
  }

  async function poll(card) {
    if (!card.isConnected || !waiting.includes(card)) return; // gone, or streaming by now
    try {
      const response = await fetch(card.dataset.events.replace(/events$/, "status"), {
        headers: { "HX-Request": "true" }, credentials: "same-origin",
      });
      const html = response.ok ? await response.text() : "";
      if (html && !html.includes("data-events=")) {
        waiting.splice(waiting.indexOf(card), 1);
        finish(card, html, null);
        return;
      }
      const fresh = new DOMParser().parseFromString(html, "text/html").querySelector("article.clip");
      const bar = fresh && fresh.querySelector("progress");
      if (bar) showProgress(card, { stage: fresh.dataset.stage, progress: +bar.value,
        detail: (fresh.querySelector(".detail") || {}).textContent }, {});
    } catch (err) { /* offline for a moment: try again */ }
    setTimeout(() => poll(card), POLL_MS);
  }

  function scan(root) {
    if (root.matches && root.matches("article.clip[data-events]")) connect(root);
    if (root.querySelectorAll) root.querySelectorAll("article.clip[data-events]").forEach(connect);
  }

  // Another page swapped in (boosted navigation): the old cards' streams are not needed any more,
  // except a clip that is speaking as it is made: it keeps its stream and talks to the end.
  document.addEventListener("htmx:afterSwap", () => {
    for (const [card, release] of open) if (!card.isConnected && !card.hasAttribute("data-listen")) release();
    for (let i = waiting.length - 1; i >= 0; i--) if (!waiting[i].isConnected) waiting.splice(i, 1);
  });

  // The playbar starting: stop live speech, so two clips never talk at once.
  document.addEventListener("play", (event) => {
    if (event.target.id === "playbar-audio") for (const player of [...players]) player.stop();
  }, true);

  document.addEventListener("DOMContentLoaded", () => scan(document));
  document.addEventListener("htmx:load", (event) => scan(event.target));
})();
