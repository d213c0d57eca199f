"""Time to first audio byte over the three streaming paths of the public API, on an idle worker.

Starts the whole studio as ``scripts/start`` does (``bench.site_latency.start_studio``: Temporal
dev server, orchestration and GPU workers, the site; SQLite and the local store in a temporary
folder), makes an account and a key, then for each path times ``-n`` requests of the same
paragraph one after another (plus one warm-up each, not counted), the worker idle in between:

- ``websocket``: ElevenLabs ``stream-input`` (``ws://``): connect, the first message, the whole
  paragraph with ``flush``, then ``{"text": ""}``; until the first message with audio;
- ``openai_sse``: ``POST /v1/audio/speech`` with ``stream_format: "sse"``; until the first
  ``speech.audio.delta`` event;
- ``elevenlabs_stream``: ``POST /v1/text-to-speech/{voice}/stream``; until the first body bytes.

Each time runs from before the connection is opened (handshake and key check included) to the
first audio byte received. Prints figures; asserts nothing.

    .venv/bin/python -m bench.realtime_ttfb -n 5
"""

import argparse
import asyncio
import json
import os
import signal
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import websockets

from bench.site_latency import start_studio
from bench.tts_bench import machine
from tests.site import create_key, sign_up

PARAGRAPH = (
    "Sure, here is what I found. The studio turns your words into speech while you wait, and sends "
    "each phrase the moment it is ready. When everything is done, the finished clip lands in your "
    "history as one file."
)
VOICE = "af_heart"


async def websocket_ttfb(base: str, key: str) -> float:
    url = base.replace("http://", "ws://") + f"/v1/text-to-speech/{VOICE}/stream-input?output_format=mp3_44100_128"
    start = time.perf_counter()
    async with websockets.connect(url, additional_headers={"xi-api-key": key}) as ws:
        await ws.send(json.dumps({"text": " "}))
        await ws.send(json.dumps({"text": PARAGRAPH + " ", "flush": True}))
        await ws.send(json.dumps({"text": ""}))
        first = None
        async for raw in ws:
            message = json.loads(raw)
            if first is None and message.get("audio"):
                first = time.perf_counter() - start
    return first if first is not None else float("nan")


async def openai_sse_ttfb(base: str, key: str) -> float:
    body = {"model": "tts-1", "voice": VOICE, "input": PARAGRAPH, "stream_format": "sse", "response_format": "mp3"}
    start, first = time.perf_counter(), None
    async with httpx.AsyncClient(base_url=base, timeout=120) as http:
        headers = {"Authorization": f"Bearer {key}"}
        async with http.stream("POST", "/v1/audio/speech", json=body, headers=headers) as resp:
            async for line in resp.aiter_lines():
                if first is None and line.startswith("data:") and '"speech.audio.delta"' in line:
                    first = time.perf_counter() - start
    return first if first is not None else float("nan")


async def elevenlabs_stream_ttfb(base: str, key: str) -> float:
    start, first = time.perf_counter(), None
    async with httpx.AsyncClient(base_url=base, timeout=120) as http:
        path = f"/v1/text-to-speech/{VOICE}/stream?output_format=mp3_44100_128"
        async with http.stream("POST", path, json={"text": PARAGRAPH}, headers={"xi-api-key": key}) as resp:
            async for chunk in resp.aiter_bytes():
                if first is None and chunk:
                    first = time.perf_counter() - start
    return first if first is not None else float("nan")


PATHS: dict[str, Callable[[str, str], Awaitable[float]]] = {
    "websocket": websocket_ttfb,
    "openai_sse": openai_sse_ttfb,
    "elevenlabs_stream": elevenlabs_stream_ttfb,
}


async def measure(base: str, n: int, settle: float) -> dict[str, list[float]]:
    async with httpx.AsyncClient(base_url=base, timeout=60) as site:
        await sign_up(site)
        key = await create_key(site, "bench")
    results: dict[str, list[float]] = {name: [] for name in PATHS}
    for name, ttfb in PATHS.items():
        for i in range(n + 1):  # the first of each warms its path up and is not counted
            seconds = await ttfb(base, key)
            print(f"  {name} run {i}: first audio after {seconds * 1000:.0f} ms", flush=True)
            if i:
                results[name].append(seconds * 1000)
            await asyncio.sleep(settle)  # the worker idles between requests
    return results


def p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=5)
    parser.add_argument("--port", type=int, default=18700)
    parser.add_argument("--settle", type=float, default=3.0, help="seconds of idle between requests")
    parser.add_argument("--warmup", type=float, default=20.0, help="seconds for the workers to load first")
    args = parser.parse_args()
    os.environ["STUDIO_TTS_PUBLISH_PREVIEWS"] = "false"  # no preview rendering competing for the CPU
    with tempfile.TemporaryDirectory() as tmp:
        proc = start_studio(Path(__file__).resolve().parents[1], Path(tmp), args.port)
        try:
            time.sleep(args.warmup)
            results = asyncio.run(measure(f"http://127.0.0.1:{args.port}", args.n, args.settle))
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
    print(f"\nmachine: {machine()}; paragraph of {len(PARAGRAPH)} characters, voice {VOICE}, MP3; n={args.n}")
    print("| path | median ms | p90 ms |\n|---|---|---|")
    for name, values in results.items():
        print(f"| {name} | {statistics.median(values):.0f} | {p90(values):.0f} |")


if __name__ == "__main__":
    main()
