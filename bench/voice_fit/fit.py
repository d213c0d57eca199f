"""The product voice fitter (``workers.gpu_tts.voice_fit``) on the bench's speakers, with the
product budgets, timed; held-out renders saved for ``score.py``.

    python -m bench.voice_fit.fit --device cuda --out DIR --budgets gpu cpu     # the lent H200
    python -m bench.voice_fit.fit --device cpu --threads 2 --out DIR --budgets cpu   # this CPU

Inputs from ``prepare.py`` (var/voice_fit/product/{inputs.npz, ge2e.pt}) and the converted Kokoro
weights. For each speaker: its "recording" (Kokoro targets: their TARGET_FIT sentences rendered
from their own pack; joe and Allison: their fit clips) joined with 0.3 s pauses and passed to
``check_recording``; then ``VoiceFitter.fit`` with each budget, the fitter built on the 28 stock
voices minus the speaker. The stock voices' probe embeddings (a fitter's one-off cost) are timed
apart, before the first fit of each fitter (``--stock-in-fit``: inside it, as in production, where
the budget's time cap covers it). Every candidate voice (nearest stock voice, the start
blend, each fit, and for a Kokoro target its true pack) says the 12 EVAL sentences; the audio
(16 kHz int16), the packs and the speaker's held-out clip go to DIR/audio_<speaker>.npz, timings and
fit details to DIR/results.json. Four stock voices' EVAL renders (the WER baseline) go to
DIR/audio_stock.npz.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import time
from pathlib import Path

import numpy as np
import torch

from workers.gpu_tts.kokoro_torch import load_model
from workers.gpu_tts.voice_fit import speaker
from workers.gpu_tts.voice_fit.fitter import CPU_BUDGET, GPU_BUDGET, FitBudget, VoiceFitter, lang_of
from workers.gpu_tts.voice_fit.recording import band_edge, check_recording
from workers.gpu_tts.voice_fit.render import Sentences
from workers.gpu_tts.voice_fit.speaker import SpeakerEncoder

BUDGETS = {"gpu": GPU_BUDGET, "cpu": CPU_BUDGET}
WER_STOCK = ["af_heart", "am_adam", "bf_emma", "bm_george"]
GAP_S = 0.3


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def joined(clips: list[np.ndarray], rate: int) -> np.ndarray:
    gap = np.zeros(int(GAP_S * rate), np.float32)
    return np.concatenate([x for c in clips for x in (c, gap)])


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.inputs = np.load(args.inputs)
        self.meta = json.loads(str(self.inputs["meta"]))
        self.packs = {v: self.inputs[f"pack/{v}"] for v in self.meta["voices"]}
        self.model = load_model(args.weights, args.device)
        state = torch.load(args.ge2e, map_location="cpu", weights_only=True)
        self.encoder = SpeakerEncoder(state).to(args.device).eval().requires_grad_(False)
        # check_recording's encoder (the process's, on the CPU) from the same state: the device has
        # neither resemblyzer nor librosa to build it from
        speaker._encoders.setdefault("cpu", SpeakerEncoder(state).eval().requires_grad_(False))
        self.fitters: dict[tuple[str, ...], VoiceFitter] = {}

    def phonemize(self, text: str, lang: str) -> list[int]:
        return self.meta["phonemes"][lang][text]

    def sentences(self, key: str, lang: str) -> Sentences:
        return Sentences([self.phonemize(t, lang) for t in self.meta["sets"][key]], self.args.device)

    @torch.no_grad()
    def render16k(self, pack: np.ndarray, key: str, lang: str) -> list[np.ndarray]:
        """The set's sentences in ``pack``, one batch, as 16 kHz float32 clips."""
        audio, samples, _ = self.sentences(key, lang).render(
            torch.from_numpy(np.asarray(pack, np.float32)).reshape(1, 510, 256).to(self.args.device), self.model
        )
        wav = self.encoder.to16k(audio)
        return [wav[i, : math.ceil(2 * n / 3)].clamp(-1, 1).cpu().numpy() for i, n in enumerate(samples)]

    @torch.no_grad()
    def render24k(self, pack: np.ndarray, key: str, lang: str) -> list[np.ndarray]:
        audio, samples, _ = self.sentences(key, lang).render(
            torch.from_numpy(np.asarray(pack, np.float32)).reshape(1, 510, 256).to(self.args.device), self.model
        )
        return [audio[i, :n].cpu().numpy() for i, n in enumerate(samples)]

    def clips(self, spk: str, key: str) -> tuple[list[np.ndarray], int]:
        info = self.meta["speakers"][spk]
        if info["kind"] == "kokoro":
            return self.render24k(self.packs[spk], key, "en-us"), 24_000
        names = sorted(
            (k for k in self.inputs.files if k.startswith(f"audio/{spk}/{key}/")), key=lambda k: int(k.split("/")[-1])
        )
        return [self.inputs[k].astype(np.float32) / 32767 for k in names], info["rate"]

    def fitter(self, basis: list[str]) -> VoiceFitter:
        key = tuple(basis)
        if key not in self.fitters:
            self.fitters[key] = VoiceFitter(
                self.model, {v: self.packs[v] for v in basis}, self.phonemize, self.args.device, encoder=self.encoder
            )
        return self.fitters[key]

    def speaker(self, spk: str) -> dict:
        args = self.args
        basis = [v for v in self.meta["voices"] if v != spk][: self.args.max_basis or None]
        fitter = self.fitter(basis)
        fit_clips, rate = self.clips(spk, "target_fit")
        held_clips, held_rate = self.clips(spk, "target_held")
        recording = joined(fit_clips, rate)
        result: dict = {"speaker": spk, "basis_size": len(basis), "recording_s": len(recording) / rate}
        t0 = time.perf_counter()
        result["check"] = check_recording(recording, rate)
        result["check_s"] = time.perf_counter() - t0
        print(f"[{spk}] recording {result['recording_s']:.1f} s, check: {result['check']}", flush=True)

        out: dict[str, np.ndarray] = {}
        fits = {}
        for name in args.budgets:
            budget = BUDGETS[name] if not args.tiny else FitBudget(steps=2, probe_sentences=1, blend_candidates=2)
            sync(args.device)
            t0 = time.perf_counter()
            if not args.stock_in_fit:  # time the one-off apart (else the fit pays it, as in production)
                fitter.stock_embeddings(budget.probe_sentences, band=band_edge(recording, rate))
            sync(args.device)
            stock_s = time.perf_counter() - t0
            if args.device.startswith("cuda"):
                torch.cuda.reset_peak_memory_stats()
            curve: list[tuple[int, float, float]] = []
            t_fit = time.perf_counter()
            voice = fitter.fit(
                recording,
                rate,
                budget,
                on_step=lambda s, n, b, curve=curve, t_fit=t_fit: curve.append(
                    (s, round(time.perf_counter() - t_fit, 2), round(b, 4))
                ),
            )
            fits[name] = voice
            result[f"fit_{name}"] = {
                "budget": dataclasses.asdict(budget),
                "stock_embedding_s": stock_s,
                "seconds": voice.seconds,
                "steps": voice.steps,
                "lang": voice.lang,
                "band": voice.band,
                "nearest": voice.nearest,
                "start_blend": voice.start_blend,
                "start_similarity": voice.start_similarity,
                "similarity": voice.similarity,
                "curve": curve,
                "peak_gpu_gib": torch.cuda.max_memory_allocated() / 2**30 if args.device.startswith("cuda") else None,
            }
            print(
                f"[{spk}] {name} budget: {voice.steps} steps in {voice.seconds:.1f} s (+{stock_s:.1f} s stock voices),"
                f" GE2E {voice.start_similarity:.3f} -> {voice.similarity:.3f}, nearest {voice.nearest[:2]}",
                flush=True,
            )

        first = fits[args.budgets[0]]
        nearest = first.nearest[0][0]
        start = sum(w * self.packs[v].astype(np.float32) for v, w in first.start_blend.items())
        candidates = {"nearest": (self.packs[nearest], lang_of(nearest)), "blend": (start, first.lang)}
        for name, voice in fits.items():
            candidates[f"fit_{name}"] = (voice.pack, voice.lang)
        if self.meta["speakers"][spk]["kind"] == "kokoro":
            candidates["true"] = (self.packs[spk], "en-us")
        for cand, (pack, lang) in candidates.items():
            for i, clip in enumerate(self.render16k(pack, "eval", lang)):
                out[f"{cand}/{i}"] = np.round(clip * 32767).astype(np.int16)
            out[f"pack/{cand}"] = np.asarray(pack, np.float32).reshape(510, 1, 256)
        for key, clips, r in (("target_held", held_clips, held_rate), ("target_fit", fit_clips, rate)):
            for i, clip in enumerate(clips):
                if r == 24_000:  # Kokoro targets travel back at 16 kHz like the candidates
                    clip = self.encoder.to16k(torch.from_numpy(clip)[None].to(args.device))[0].cpu().numpy()
                out[f"{key}/{i}"] = np.round(np.clip(clip, -1, 1) * 32767).astype(np.int16)
        result["rates"] = {"target_held": 16_000 if held_rate == 24_000 else held_rate, "candidates": 16_000}
        result["candidates"] = {k: lang for k, (_, lang) in candidates.items()}
        np.savez_compressed(args.out / f"audio_{spk}.npz", **out)
        return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--inputs", type=Path, default=Path("var/voice_fit/product/inputs.npz"))
    parser.add_argument("--ge2e", type=Path, default=Path("var/voice_fit/product/ge2e.pt"))
    parser.add_argument("--weights", type=Path, default=Path("var/models/kokoro-v1.0.pt"))
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--speakers", nargs="*", default=["am_michael", "af_sarah", "piper_joe", "allison"])
    parser.add_argument("--budgets", nargs="+", default=["gpu", "cpu"], choices=list(BUDGETS))
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--no-stock", action="store_true", help="skip the stock voices' WER renders")
    parser.add_argument(
        "--stock-in-fit", action="store_true", help="let the first fit embed the stock voices (production timing)"
    )
    parser.add_argument("--tiny", action="store_true", help="smoke test: 2 steps, 1 probe sentence, 2 blends")
    parser.add_argument("--max-basis", type=int, default=0, help="smoke test: only the first N stock voices")
    parser.add_argument("--out", type=Path, default=Path("var/voice_fit/out"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    t0 = time.perf_counter()
    bench = Bench(args)
    machine = (
        torch.cuda.get_device_name() if args.device.startswith("cuda") else f"cpu, {torch.get_num_threads()} threads"
    )
    results: dict = {"device": machine, "torch": torch.__version__, "load_s": time.perf_counter() - t0, "speakers": {}}
    print(f"loaded in {results['load_s']:.1f} s on {machine}", flush=True)
    for spk in args.speakers:
        t0 = time.perf_counter()
        results["speakers"][spk] = bench.speaker(spk)
        results["speakers"][spk]["total_s"] = time.perf_counter() - t0
        (args.out / "results.json").write_text(json.dumps(results, indent=1))
    if not args.no_stock:
        stock = {}
        for v in WER_STOCK:
            for i, clip in enumerate(bench.render16k(bench.packs[v], "eval", lang_of(v))):
                stock[f"{v}/{i}"] = np.round(clip * 32767).astype(np.int16)
        np.savez_compressed(args.out / "audio_stock.npz", **stock)
    (args.out / "results.json").write_text(json.dumps(results, indent=1))
    print("done", flush=True)


if __name__ == "__main__":
    main()
