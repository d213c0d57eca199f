// Words light up as a speech clip plays: the clip's word times (from Kokoro's own durations) are
// fetched on first play and the card's text is cut into one span per word (the same whitespace
// words the timestamps name). Works for cards added later by HTMX: events are caught on document.
(function () {
  "use strict";

  async function prepare(text) {
    if (text.dataset.ready) return text._words;
    text.dataset.ready = "1";
    const response = await fetch(text.dataset.words, { credentials: "same-origin" });
    if (!response.ok) return null;
    const words = (await response.json()).words || [];
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
  }

  function highlight(spans, t) {
    for (const span of spans) {
      span.classList.toggle("spoken", t >= +span.dataset.start && t < +span.dataset.end);
    }
  }

  document.addEventListener("play", async (event) => {
    const audio = event.target;
    const card = audio.closest && audio.closest("article.clip");
    const text = card && card.querySelector("p.text[data-words]");
    if (!text) return;
    const spans = await prepare(text);
    if (!spans || audio._captioned) return;
    audio._captioned = true;
    audio.addEventListener("timeupdate", () => highlight(spans, audio.currentTime));
    audio.addEventListener("ended", () => highlight(spans, -1));
  }, true);
})();
