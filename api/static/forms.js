/* The generation forms (speech, voice changer, sound effects), the recorder, voice previews and the
   account page's copy button.

   The site navigates with htmx (boosted links swap the page's body), so nothing here runs once per
   page: listeners are delegated on `document` (bound once, when this file loads) and the per-page
   set-up runs from htmx.onLoad for whatever content arrives, which may run it again on the same
   element, so every set-up step is idempotent. Templates carry the data (limits, price rule,
   formats) as attributes; this file holds no numbers of its own. */
(function () {
  "use strict";

  const number = new Intl.NumberFormat("en-US");
  const fmt = (n) => number.format(n);

  /* ---------- Range inputs that show their value ---------- */

  const FORMATS = {
    speed: (v) => Number(v).toFixed(2) + "×",
    pitch: (v) => (Number(v) > 0 ? "+" : "") + Number(v),
    seconds: (v) => Number(v).toFixed(1).replace(/\.0$/, "") + " s",
    fraction: (v) => Number(v).toFixed(2),
  };

  function showValue(input) {
    const out = document.getElementById(input.dataset.output);
    const format = FORMATS[input.dataset.format];
    if (out && format) out.textContent = format(input.value);
  }

  /* ---------- Blocking a form's submit button, for one or more reasons ---------- */

  const blockers = new WeakMap(); // form -> Map(reason -> true)

  function block(form, reason, on) {
    if (!blockers.has(form)) blockers.set(form, new Map());
    const reasons = blockers.get(form);
    if (on) reasons.set(reason, true); else reasons.delete(reason);
    applyBlock(form);
  }

  function applyBlock(form) {
    const button = form.querySelector("button[type=submit]");
    const reasons = blockers.get(form);
    if (!button || !reasons) return;
    const blocked = reasons.size > 0;
    if (blocked) button.setAttribute("disabled", "");
    else if (!form.classList.contains("htmx-request")) button.removeAttribute("disabled");
  }

  /* ---------- Character counters: a warning near the limit, an error past it ---------- */

  const NEAR = 0.9; // the share of the limit from which the counter warns

  function checkLimit(area, pasted) {
    const limit = Number(area.dataset.limit);
    if (!limit) return;
    const n = area.value.length;
    const count = document.getElementById(area.dataset.count);
    const counter = document.getElementById(area.dataset.counter);
    const message = document.getElementById(area.dataset.limitMessage);
    if (count) count.textContent = fmt(n);
    const over = n > limit, near = !over && n >= NEAR * limit;
    if (counter) {
      counter.classList.toggle("near", near);
      counter.classList.toggle("over", over);
    }
    if (over) area.setAttribute("aria-invalid", "true"); else area.removeAttribute("aria-invalid");
    if (message) {
      let text = "";
      if (over) {
        text = (pasted ? "The pasted text makes it " : "The text is ") + fmt(n) + " characters; the limit is " +
          fmt(limit) + ". Remove " + fmt(n - limit) + " to continue (nothing was cut).";
      } else if (near) {
        text = fmt(limit - n) + " characters left.";
      }
      if (message.textContent !== text) message.textContent = text;
      message.className = "limit-message" + (over ? " over" : near ? " near" : "");
    }
    const form = area.form;
    if (form) block(form, "limit:" + area.id, over);
  }

  /* ---------- Price as you type, and "you have" from the live balance ---------- */

  // The header's balance (partials/balance.html) is the one live figure: htmx replaces it after
  // every generation, and each submit row mirrors it from there.
  function liveCredits() {
    const balance = document.getElementById("balance");
    const credits = balance ? Number(balance.dataset.credits) : NaN;
    return Number.isFinite(credits) ? credits : null;
  }

  function priceOf(row) {
    const unitPrice = Number(row.dataset.unitPrice) || 0;
    const field = row.dataset.unitsField;
    if (!field) return unitPrice;
    const input = row.closest("form") && row.closest("form").elements.namedItem(field);
    if (!input) return unitPrice;
    const measure = row.dataset.unitsMeasure === "length" ? String(input.value).length : Number(input.value) || 0;
    const per = Number(row.dataset.unitsPer) || 1;
    return unitPrice * Math.max(1, Math.ceil(measure / per));
  }

  function updatePrice(row) {
    const form = row.closest("form");
    const price = priceOf(row);
    const have = row.querySelector("[data-credits]");
    const live = liveCredits();
    if (have && live !== null && Number(have.dataset.credits) !== live) {
      have.dataset.credits = String(live);
      have.textContent = fmt(live);
    }
    const credits = have ? Number(have.dataset.credits) : null;
    const shown = row.querySelector("[data-price]");
    if (shown && shown.textContent !== fmt(price)) shown.textContent = fmt(price);
    const short = credits !== null && price > credits;
    const message = row.querySelector("[data-short-message]");
    if (message) {
      const text = short ? "This costs " + fmt(price) + " credits and you have " + fmt(credits) +
        (row.dataset.unitsField ? ". Ask for fewer to make it cheaper." : ".") : "";
      if (message.textContent !== text) message.textContent = text;
      message.hidden = !short;
    }
    if (form) block(form, "credits", short);
  }

  function updateAllPrices() {
    document.querySelectorAll(".submit-row[data-unit-price]").forEach(updatePrice);
  }

  /* ---------- The drop zone and the recorder ---------- */

  function clock(seconds) {
    const s = Math.round(seconds);
    return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
  }

  function showFile(zone, file) {
    const text = zone.querySelector(".drop-text");
    const preview = document.getElementById("preview");
    const size = file.size >= 1024 * 1024 ? (file.size / 1024 / 1024).toFixed(1) + " MB" : Math.max(1, Math.round(file.size / 1024)) + " KB";
    const label = file.name + " (" + size + ")";
    if (text) text.textContent = label;
    zone.classList.add("chosen");
    if (!preview) return;
    if (preview.src.startsWith("blob:")) URL.revokeObjectURL(preview.src);
    preview.src = URL.createObjectURL(file);
    preview.hidden = false;
    preview.addEventListener("loadedmetadata", () => {
      if (text && Number.isFinite(preview.duration)) text.textContent = file.name + " (" + clock(preview.duration) + ", " + size + ")";
    }, {once: true});
    preview.addEventListener("error", () => {
      if (text) text.textContent = label + ": this browser cannot play it, but it can still be uploaded.";
    }, {once: true});
  }

  function useFile(zone, file) {
    const input = zone.querySelector("input[type=file]");
    const transfer = new DataTransfer();
    transfer.items.add(file);
    input.files = transfer.files;
    showFile(zone, file);
  }

  const recorders = new WeakMap(); // record button -> MediaRecorder

  async function toggleRecording(button) {
    const zone = document.querySelector("[data-drop]");
    const running = recorders.get(button);
    if (running && running.state === "recording") { running.stop(); return; }
    try {
      const stream = await navigator.mediaDevices.getUserMedia({audio: true});
      const recorder = new MediaRecorder(stream), parts = [];
      recorders.set(button, recorder);
      recorder.ondataavailable = (e) => parts.push(e.data);
      recorder.onstop = () => {
        stream.getTracks().forEach((t) => t.stop());
        const type = recorder.mimeType || "audio/webm";
        if (zone) useFile(zone, new File(parts, "recording." + (type.includes("ogg") ? "ogg" : "webm"), {type}));
        button.textContent = "● Record";
        button.setAttribute("aria-pressed", "false");
      };
      recorder.start();
      button.textContent = "■ Stop";
      button.setAttribute("aria-pressed", "true");
    } catch (err) {
      const text = zone && zone.querySelector(".drop-text");
      if (text) text.textContent = "Recording is not available: " + err.message;
    }
  }

  /* ---------- Voice previews ---------- */

  function previewParts(el) {
    const picker = el.closest(".voice-picker");
    if (!picker) return {};
    return {
      select: picker.querySelector("select"),
      button: picker.querySelector("[data-voice-preview]"),
      audio: picker.querySelector("audio"),
    };
  }

  function idlePreview(button) { if (button) button.textContent = "▶ Preview"; }

  function togglePreview(button) {
    const {select, audio} = previewParts(button);
    if (!select || !audio) return;
    if (!audio.paused && audio.dataset.voice === select.value) { audio.pause(); return; }
    audio.dataset.voice = select.value;
    audio.src = "/voices/" + encodeURIComponent(select.value) + "/preview";
    if (!audio.dataset.bound) {
      audio.dataset.bound = "1";
      audio.addEventListener("pause", () => idlePreview(button));
      audio.addEventListener("ended", () => idlePreview(button));
    }
    audio.play().then(() => { button.textContent = "■ Stop"; }).catch(() => { button.textContent = "Preview not ready"; });
  }

  /* ---------- Copy (the new API key) ---------- */

  function copyFrom(button) {
    const source = document.getElementById(button.dataset.copy);
    const status = document.getElementById(button.dataset.copyStatus);
    if (!source) return;
    const say = (text) => { if (status) status.textContent = text; };
    const selectIt = () => {
      const range = document.createRange();
      range.selectNodeContents(source);
      const selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
    };
    const fallback = () => {
      selectIt();
      let ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      say(ok ? "Copied." : "Selected: press Ctrl+C (or Cmd+C) to copy.");
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(source.textContent.trim()).then(() => say("Copied."), fallback);
    } else {
      fallback();
    }
  }

  /* ---------- Delegated listeners (bound once) ---------- */

  document.addEventListener("input", (e) => {
    const t = e.target;
    if (t.matches && t.matches("input[type=range][data-output]")) showValue(t);
    if (t.matches && t.matches("textarea[data-limit]")) checkLimit(t, e.inputType === "insertFromPaste");
    const row = t.form && t.form.querySelector(".submit-row[data-unit-price]");
    if (row) updatePrice(row);
  });

  document.addEventListener("change", (e) => {
    const t = e.target;
    const row = t.form && t.form.querySelector(".submit-row[data-unit-price]");
    if (row) updatePrice(row);
    if (t.matches("[data-drop] input[type=file]") && t.files && t.files[0]) showFile(t.closest("[data-drop]"), t.files[0]);
    if (t.matches(".voice-picker select")) {
      const {audio, button} = previewParts(t);
      if (audio) audio.pause();
      idlePreview(button);
    }
  });

  document.addEventListener("click", (e) => {
    const t = e.target.closest && e.target.closest("button");
    if (!t) return;
    if (t.matches("[data-voice-preview]")) togglePreview(t);
    else if (t.matches("[data-record]")) toggleRecording(t);
    else if (t.matches("[data-copy]")) copyFrom(t);
    else if (t.matches("[data-back]")) {
      if (history.length > 1) history.back(); else window.location.assign("/");
    }
    else if (t.matches("[data-fill]")) {
      const target = document.getElementById(t.dataset.fill);
      if (!target) return;
      target.value = t.dataset.text;
      target.dispatchEvent(new Event("input", {bubbles: true}));
      target.focus();
    }
  });

  ["dragenter", "dragover"].forEach((type) => document.addEventListener(type, (e) => {
    const zone = e.target.closest && e.target.closest("[data-drop]");
    if (!zone) return;
    e.preventDefault();
    zone.classList.add("over");
  }));
  ["dragleave", "drop"].forEach((type) => document.addEventListener(type, (e) => {
    const zone = e.target.closest && e.target.closest("[data-drop]");
    if (!zone) return;
    e.preventDefault();
    zone.classList.remove("over");
    if (type === "drop" && e.dataTransfer.files[0]) useFile(zone, e.dataTransfer.files[0]);
  }));

  // A new request from a generation form replaces its last error instead of stacking another.
  document.addEventListener("htmx:beforeRequest", (e) => {
    const form = e.detail.elt;
    if (!form.matches || !form.matches("form[data-generation-form]")) return;
    const target = e.detail.target;
    if (target) target.querySelectorAll(":scope > .alert.error").forEach((el) => el.remove());
  });

  // htmx re-enables the submit button when a request ends: put back any block that still holds.
  document.addEventListener("htmx:afterRequest", (e) => {
    const form = e.detail.elt;
    if (form.matches && form.matches("form[data-generation-form]")) setTimeout(() => applyBlock(form), 0);
  });

  /* ---------- Per-content set-up, idempotent ---------- */

  function setUp(root) {
    const scope = root.querySelectorAll ? root : document;
    scope.querySelectorAll("input[type=range][data-output]").forEach(showValue);
    scope.querySelectorAll("textarea[data-limit]").forEach((area) => checkLimit(area, false));
    // A new #balance (after a generation) or a new form: every submit row follows the balance.
    updateAllPrices();
  }

  function start() {
    setUp(document);
    if (window.htmx && window.htmx.onLoad) window.htmx.onLoad(setUp);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
