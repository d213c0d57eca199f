// Words light up as a speech clip plays: the clip's word times (from Kokoro's own durations) are
// fetched on first play and the card's text is cut into one span per word (the same whitespace
// words the timestamps name). Clips play in the persistent playbar (playbar.js), so the card is
// found by the playing clip's id on every tick: after navigating back to History the card there
// lights up again. Works for cards added later by HTMX: events are caught on document.
(function () {
  "use strict";

  async function prepare(text) {
    if (text._words) return text._words;
    if (!text._loading) {
      text._loading = fetch(text.dataset.words, { credentials: "same-origin" })
        .then((r) => (r.ok ? r.json() : { words: [] }))
        .then((body) => {
          const words = body.words || [];
          const pieces = text.textContent.split(/(\s+)/);
          text.textContent = "";
          let i = 0;
          for (const piece of pieces) {
            if (!piece) continue;
            if (/^\s+$/.test(piece)) { text.append(piece); continue; }
            const span = document.createElement("span");
            span.className = "word";
            span.textContent = piece;
            if (i < words.length) { span.dataset.start = words[i].start; span.dataset.end = words[i].end; }
            i += 1;
            text.append(span);
          }
          text._words = Array.from(text.querySelectorAll("span.word[data-start]"));
          return text._words;
        })
        .catch(() => null);
    }
    return text._loading;
  }

  function cardText(audio) {
    const card = (audio.closest && audio.closest("article.clip")) ||
      (audio.dataset.clip && document.getElementById("clip-" + audio.dataset.clip));
    return card ? card.querySelector("p.text[data-words]") : null;
  }

  async function highlight(audio, t) {
    const text = cardText(audio);
    if (!text) return;
    const spans = await prepare(text);
    if (!spans) return;
    for (const span of spans) {
      span.classList.toggle("spoken", t >= +span.dataset.start && t < +span.dataset.end);
    }
  }

  document.addEventListener("play", (event) => {
    const audio = event.target;
    if (audio._captioned || !(audio instanceof HTMLMediaElement)) return;
    audio._captioned = true;
    audio.addEventListener("timeupdate", () => highlight(audio, audio.currentTime));
    audio.addEventListener("ended", () => highlight(audio, -1));
    audio.addEventListener("emptied", () => document.querySelectorAll("span.word.spoken").forEach((s) => s.classList.remove("spoken")));
  }, true);
})();
