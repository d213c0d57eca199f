"""Site latency in a real browser: click "Generate" -> first audible sample, and -> the finished card.

Starts the whole studio as ``scripts/start`` does (Temporal dev server, orchestration and GPU
workers, the site; SQLite and the local store in a temporary folder), signs up in headless
Chromium (Playwright), and times ``-n`` paragraphs one after another, each on an idle worker.
Prints figures; asserts nothing.

The page's clock does the timing: an init script notes the click, the moment the first
``AudioBufferSourceNode`` is scheduled to sound (the live player's first part, plus the output
latency), and when the card turns "done"; and on the way to the first sound, when the form's answer
came (the clip is recorded and its workflow started), when the first part landed in the store (its
file's time: the same machine's clock), when its event came (the page asks for the part at once)
and when the part was fetched. ``--repo`` runs an older checkout (e.g. a
``git worktree`` of the commit before live playback) with this checkout's venv, for "before"
figures: there the first sound can only come after "done", when the user presses play.

    .venv/bin/python -m bench.site_latency -n 5
    git worktree add /tmp/before 5a1fe62 && .venv/bin/python -m bench.site_latency --repo /tmp/before
"""

import argparse
import asyncio
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

from bench.tts_bench import machine

ROOT = Path(__file__).resolve().parents[1]
STEPS = ("response", "part stored", "part event", "part fetched")  # on the way to the first sound
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--autoplay-policy=no-user-gesture-required"]
PARAGRAPH = (
    "The studio turns your words into speech while you wait. Each sentence is rendered on the "
    "worker and sent to the page the moment it is ready, so you hear the first words long before "
    "the last ones exist. When everything is done, the finished clip lands in your history as one "
    "file, with captions and downloads. Try a longer text to hear how it keeps up."
)

# Runs in the page before its own scripts: the click, the first scheduled sound, the card's "done".
PROBE = """
(() => {
  const t = (window.benchTimes = { click: null, response: null, part: null, fetched: null, sound: null, done: null });
  document.addEventListener("click", (e) => {
    if (e.target.closest && e.target.closest("#tts-form button[type=submit]")) t.click = performance.now();
  }, true);
  window.benchEpoch = (ms) => performance.timeOrigin + ms;
  document.addEventListener("htmx:afterRequest", () => {
    if (t.click !== null && t.response === null) t.response = performance.now();
  });
  const fetch = window.fetch;
  window.fetch = function (url, ...rest) {
    const first = t.click !== null && t.part === null && String(url).includes("/parts/");
    if (first) t.part = performance.now();
    const answer = fetch.call(this, url, ...rest);
    if (first) answer.then(() => { t.fetched = performance.now(); });
    return answer;
  };
  const start = AudioBufferSourceNode.prototype.start;
  AudioBufferSourceNode.prototype.start = function (when = 0, ...rest) {
    if (t.click !== null && t.sound === null) {
      const ctx = this.context, ahead = Math.max(0, when - ctx.currentTime);
      t.sound = performance.now() + (ahead + (ctx.outputLatency || ctx.baseLatency || 0)) * 1000;
    }
    return start.call(this, when, ...rest);
  };
  new MutationObserver(() => {
    const card = document.querySelector("#result article.clip");
    if (t.click !== null && t.done === null && card && card.dataset.stage === "done") t.done = performance.now();
  }).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ["data-stage"] });
})();
"""


def start_studio(repo: Path, var: Path, port: int) -> subprocess.Popen:
    env = os.environ | {
        "STUDIO_VAR_DIR": str(var),
        "STUDIO_PORT": str(port),
        "STUDIO_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "STUDIO_TEMPORAL_ADDRESS": f"127.0.0.1:{port + 1}",
        "STUDIO_TEMPORAL_UI_URL": f"http://127.0.0.1:{port + 2}",
        "STUDIO_TTS_MODELS_DIR": str(ROOT / "var" / "models"),
        "STUDIO_VC_PROFILE_CACHE": str(ROOT / "var" / "vc_profiles"),
        "STUDIO_RATE_LIMIT_PER_MINUTE": "100",
        "STUDIO_SECRET_KEY": "bench-secret",
        "STUDIO_TTS_PUBLISH_PREVIEWS": "0",  # an idle worker: not rendering the 28 voice previews of a first start
    }
    log = (var / "studio.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "scripts.studio"], cwd=repo, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2)
            return proc
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(f"the studio exited; see {var / 'studio.log'}") from None
            time.sleep(1)
    raise TimeoutError("the site did not come up")


def _first_part_time(var: Path, seen: set[Path]) -> float | None:
    """When a new clip's first streamed part landed in the local store (its file time, epoch ms)."""
    for path in var.glob("**/part-0000.wav"):
        if path not in seen:
            seen.add(path)
            return path.stat().st_mtime * 1000
    return None


async def measure(url: str, n: int, settle: float, var: Path) -> list[dict[str, float]]:
    from playwright.async_api import async_playwright, expect

    rows = []
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = await browser.new_page()
        seen: set[Path] = set()
        await page.add_init_script(PROBE)
        await page.goto(f"{url}/signup")
        await page.fill("input[name=email]", f"bench-{uuid.uuid4().hex[:8]}@example.com")
        await page.fill("input[name=password]", "bench-pass-1")
        await page.click("button[type=submit]")
        await expect(page).to_have_url(f"{url}/tts")
        for i in range(n + 1):  # the first warms the workers up and is not counted
            await page.goto(f"{url}/tts")
            await page.fill("#text", PARAGRAPH)
            await page.click("button:has-text('Generate')")
            landed = None
            while (t := await page.evaluate("() => window.benchTimes"))["done"] is None:  # CSP: no eval
                landed = landed or _first_part_time(var, seen)
                await asyncio.sleep(0.02)
            click = await page.evaluate("(ms) => window.benchEpoch(ms)", t["click"])
            row = {"first_audio": (t["sound"] or t["done"]) - t["click"], "done": t["done"] - t["click"]}
            row["live"] = t["sound"] is not None
            steps = ""
            if row["live"] and None not in (t["response"], t["part"], t["fetched"]):
                # where the first audio's time went: the form's answer, the first part's event, its fetch
                row |= {"response": t["response"] - t["click"], "part event": t["part"] - t["click"],
                        "part fetched": t["fetched"] - t["click"]}  # fmt: skip
                if landed is not None:  # the store's clock is the machine's, as the page's is
                    row["part stored"] = landed - click
                steps = ", ".join(f"{k} {row[k]:.0f}" for k in STEPS if k in row)
                steps = f" ({steps})"
            print(f"  run {i}: first audio {row['first_audio']:.0f} ms{steps}, done {row['done']:.0f} ms", flush=True)
            if i:
                rows.append(row)
            await asyncio.sleep(settle)  # the worker idles between requests
        await browser.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=5)
    parser.add_argument("--repo", type=Path, default=ROOT, help="the checkout whose studio is measured")
    parser.add_argument("--port", type=int, default=18600)
    parser.add_argument("--settle", type=float, default=5.0, help="seconds of idle between requests")
    parser.add_argument("--warmup", type=float, default=30.0, help="seconds for the workers to load first")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        proc = start_studio(args.repo.resolve(), Path(tmp), args.port)
        try:
            time.sleep(args.warmup)
            rows = asyncio.run(measure(f"http://127.0.0.1:{args.port}", args.n, args.settle, Path(tmp)))
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
    print(f"\nmachine: {machine()}; repo: {args.repo}; paragraph of {len(PARAGRAPH)} characters; n={len(rows)}")
    print(f"live playback: {'yes' if all(r['live'] for r in rows) else 'no (first audio = done)'}")
    print("| click -> | median ms | p90 ms |\n|---|---|---|")
    for key in (*STEPS, "first_audio", "done"):
        if not all(key in r for r in rows):
            continue
        values = sorted(r[key] for r in rows)
        p90 = values[min(len(values) - 1, round(0.9 * (len(values) - 1)))]
        print(f"| {key.replace('_', ' ')} | {statistics.median(values):.0f} | {p90:.0f} |")


if __name__ == "__main__":
    main()
