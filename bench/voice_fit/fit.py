"""Voice-fitting spike: fit a Kokoro style pack to a target speaker, two ways, and time both.

    python -m bench.voice_fit.fit --device cuda --out $OUT [--speakers am_michael af_sarah piper_joe]
        [--budget 45] [--pop 32]

Inputs from ``prepare.py`` (var/voice_fit/inputs.npz, ge2e.pt) and the converted Kokoro weights.
Per speaker:
  1. target profile: GE2E (resemblyzer, torch port in ``ge2e.py``) of the target's fit clips;
  2. nearest stock voices: every basis voice renders the PROBE sentences in one batched pass;
  3. best stock blend: a handful of blends of the nearest voices (uniform top-k, similarity-softmax),
     one batched pass, the best by fit score;
  4. from that blend, within the same wall-clock budget each:
     ES   CMA-ES over 24 PCA coefficients (16 timbre + 8 prosody directions of the stock packs),
          population ``--pop``, each generation ONE batched forward pass (pop x probe sentences);
     GRAD Adam on the same 24 coefficients plus a free 256-d offset of every row, gradients
          through Kokoro (durations are rounded, so they carry none) and the GE2E port;
  5. held-out: each candidate (nearest, blend, ES, GRAD, and for Kokoro targets the true voice)
     renders the EVAL sentences; GE2E-port similarity to the target's held-out clip; the audio
     (16 kHz int16) goes to $OUT for ``score.py`` (CAMPPlus, real resemblyzer, pocketsphinx).
Objective (both methods): cos(profile of renders, target profile) - reg * mean(c^2) (c in units of
one stock-voice standard deviation; the offset likewise), to stay inside the space of real voices.
Writes $OUT/fit_<speaker>.json (curves, timings, coefficients) and $OUT/audio_<speaker>.npz.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np
import torch

from bench.voice_fit import ge2e as ge2e_mod
from workers.gpu_tts.kokoro_torch import load_model
from workers.gpu_tts.kokoro_torch.layers import Span
from workers.gpu_tts.kokoro_torch.model import SAMPLES_PER_FRAME
from workers.gpu_tts.kokoro_torch.text import expand_to_frames


def sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def kokoro_forward(model, ids, lengths, styles, speeds):  # noqa: ANN001, ANN201
    """``KokoroModel.forward`` without its inference_mode, so gradients reach ``styles``."""
    tokens = Span.of(lengths, ids.device, ids.shape[1])
    prosody_style, decoder_style = styles[:, model.style_dim :], styles[:, : model.style_dim]
    bert = model.bert(ids, tokens)
    d = model.predictor.text_encoder(model.bert_encoder(bert), prosody_style, tokens)
    durations = model.predictor.durations(d, speeds, tokens)
    en, frames = expand_to_frames(d.transpose(1, 2), durations)
    f0, energy = model.predictor.curves(en, prosody_style, frames)
    asr, _ = expand_to_frames(model.text_encoder(ids, tokens), durations)
    audio = model.decoder(asr, f0, energy, decoder_style, frames)
    return audio, (frames.host_lengths * SAMPLES_PER_FRAME).tolist()


class Sentences:
    """A fixed set of phonemised sentences; renders them for many packs in one padded batch."""

    def __init__(self, inputs, key: str, row_index: dict[int, int], device: str) -> None:  # noqa: ANN001
        n = sum(1 for k in inputs.files if k.startswith(f"ids/{key}/"))
        self.ids = [inputs[f"ids/{key}/{i}"] for i in range(n)]
        self.rows = torch.tensor([row_index[len(x) - 3] for x in self.ids], device=device)  # tokens-1
        self.device = device

    def __len__(self) -> int:
        return len(self.ids)

    def render(self, model, packs: torch.Tensor):  # noqa: ANN001, ANN201
        """packs [P, R, 256] -> audio [P*S, samples], samples per row, group (pack) per row."""
        p, s = packs.shape[0], len(self.ids)
        lengths = torch.tensor([len(x) for x in self.ids] * p)
        ids = torch.zeros(p * s, int(lengths.max()), dtype=torch.long)
        for r in range(p * s):
            x = self.ids[r % s]
            ids[r, : len(x)] = torch.from_numpy(x)
        styles = packs[:, self.rows].reshape(p * s, -1)
        speeds = torch.ones(p * s, device=self.device)
        audio, samples = kokoro_forward(model, ids.to(self.device), lengths, styles, speeds)
        groups = [r // s for r in range(p * s)]
        return audio, samples, groups


class CMA:
    """Plain CMA-ES (Hansen's tutorial defaults), maximising."""

    def __init__(self, dim: int, sigma: float, pop: int, seed: int = 0) -> None:
        self.n, self.sigma, self.lam = dim, sigma, pop
        self.rng = np.random.default_rng(seed)
        self.mu = pop // 2
        w = np.log(self.mu + 0.5) - np.log(np.arange(1, self.mu + 1))
        self.w = w / w.sum()
        self.mueff = 1 / (self.w**2).sum()
        n, me = dim, self.mueff
        self.cc = (4 + me / n) / (n + 4 + 2 * me / n)
        self.cs = (me + 2) / (n + me + 5)
        self.c1 = 2 / ((n + 1.3) ** 2 + me)
        self.cmu = min(1 - self.c1, 2 * (me - 2 + 1 / me) / ((n + 2) ** 2 + me))
        self.damps = 1 + 2 * max(0, math.sqrt((me - 1) / (n + 1)) - 1) + self.cs
        self.chin = math.sqrt(n) * (1 - 1 / (4 * n) + 1 / (21 * n * n))
        self.m = np.zeros(n)
        self.pc, self.ps, self.C = np.zeros(n), np.zeros(n), np.eye(n)
        self.gen = 0

    def ask(self) -> np.ndarray:
        vals, vecs = np.linalg.eigh(self.C)
        self.B, self.D = vecs, np.sqrt(np.maximum(vals, 1e-20))
        self.z = self.rng.standard_normal((self.lam, self.n))
        self.y = self.z * self.D @ self.B.T
        return self.m + self.sigma * self.y

    def tell(self, fitness: np.ndarray) -> None:
        order = np.argsort(-fitness)[: self.mu]
        y_w = self.w @ self.y[order]
        self.m = self.m + self.sigma * y_w
        c_inv_sqrt_y = self.B @ ((self.B.T @ y_w) / self.D)
        self.ps = (1 - self.cs) * self.ps + math.sqrt(self.cs * (2 - self.cs) * self.mueff) * c_inv_sqrt_y
        self.gen += 1
        hs = (
            np.linalg.norm(self.ps) / math.sqrt(1 - (1 - self.cs) ** (2 * self.gen))
            < (1.4 + 2 / (self.n + 1)) * self.chin
        )
        self.pc = (1 - self.cc) * self.pc + hs * math.sqrt(self.cc * (2 - self.cc) * self.mueff) * y_w
        rank_mu = (self.y[order].T * self.w) @ self.y[order]
        self.C = (
            (1 - self.c1 - self.cmu) * self.C
            + self.c1 * (np.outer(self.pc, self.pc) + (1 - hs) * self.cc * (2 - self.cc) * self.C)
            + self.cmu * rank_mu
        )
        self.sigma *= math.exp((self.cs / self.damps) * (np.linalg.norm(self.ps) / self.chin - 1))


def cosine(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return (a * b).sum(-1) / (a.norm(dim=-1) * b.norm(dim=-1))


def fit_speaker(spk: str, args, model, enc, inputs, meta, device: str) -> dict:  # noqa: ANN001, C901, PLR0915
    rows = inputs["rows"].tolist()
    row_index = {r: i for i, r in enumerate(rows)}
    names = meta["voices"]
    all_packs = torch.from_numpy(inputs["packs"]).to(device)  # [V, R, 256]
    basis = meta["speakers"][spk]["basis"][: args.max_basis or None]
    basis_packs = all_packs[[names.index(v) for v in basis]]
    ut = torch.from_numpy(inputs[f"pca_timbre/{spk}"].astype(np.float32)).to(device)  # [16, R, 128]
    up = torch.from_numpy(inputs[f"pca_prosody/{spk}"].astype(np.float32)).to(device)  # [8, R, 128]
    directions = torch.cat([torch.nn.functional.pad(ut, (0, 128)), torch.nn.functional.pad(up, (128, 0))])  # [D,R,256]
    dim = directions.shape[0]
    dim_std = basis_packs.std(0).mean(0)  # [256]: a stock voice's spread per style value
    sets = {k: Sentences(inputs, k, row_index, device) for k in ("target_fit", "probe", "target_held", "eval")}
    result: dict = {"speaker": spk, "basis_size": len(basis), "dims": dim}

    def embed(audio, samples, groups, rate=24_000):  # noqa: ANN001, ANN202
        return enc(audio, samples, groups, rate=rate)

    # 1. target clips: Kokoro targets rendered from their own pack; Piper's travelled as audio
    with torch.no_grad():
        clips = {}
        if meta["speakers"][spk]["kind"] == "kokoro":
            true_pack = all_packs[names.index(spk)][None]
            for key in ("target_fit", "target_held"):
                audio, samples, _ = sets[key].render(model, true_pack)
                clips[key] = (audio, samples, 24_000)
        else:
            for key in ("target_fit", "target_held"):
                n = len(sets[key])
                wavs = [inputs[f"audio/{spk}/{key}/{i}"].astype(np.float32) / 32767 for i in range(n)]
                pad = torch.zeros(n, max(map(len, wavs)))
                for i, w in enumerate(wavs):
                    pad[i, : len(w)] = torch.from_numpy(w)
                clips[key] = (pad.to(device), [len(w) for w in wavs], 16_000)
        audio, samples, rate = clips["target_fit"]
        target = embed(audio, samples, [0] * len(samples), rate)[0]
        audio, samples, rate = clips["target_held"]
        target_held = embed(audio, samples, [0] * len(samples), rate)[0]
        result["target_fit_vs_held_ge2e"] = float(cosine(target, target_held))

        # 2. nearest stock voices (one pass over the basis)
        sync(device)
        t0 = time.perf_counter()
        audio, samples, groups = sets["probe"].render(model, basis_packs)
        sims = cosine(embed(audio, samples, groups), target[None]).cpu().numpy()
        order = np.argsort(-sims)
        result["nearest"] = [(basis[i], float(sims[i])) for i in order[:8]]

        # 3. best stock blend among a few obvious ones
        top = order[:5]
        blends = {"top1": {int(top[0]): 1.0}}
        for k in (2, 3, 4, 5):
            blends[f"uniform{k}"] = {int(i): 1.0 / len(top[:k]) for i in top[:k]}
        for temp in (0.01, 0.02, 0.05):
            w = np.exp((sims[top] - sims[top[0]]) / temp)
            blends[f"softmax{temp}"] = {int(i): float(x) for i, x in zip(top, w / w.sum(), strict=True)}
        blend_packs = torch.stack([sum(w * basis_packs[i] for i, w in b.items()) for b in blends.values()])
        audio, samples, groups = sets["probe"].render(model, blend_packs)
        blend_sims = cosine(embed(audio, samples, groups), target[None]).cpu().numpy()
        best = int(np.argmax(blend_sims))
        start_pack = blend_packs[best]
        sync(device)
        result["blend_search_s"] = time.perf_counter() - t0
        result["blends"] = {name: float(s) for name, s in zip(blends, blend_sims, strict=True)}
        result["best_blend"] = {
            "name": list(blends)[best],
            "weights": {basis[i]: w for i, w in blends[list(blends)[best]].items()},
        }
        print(f"[{spk}] nearest {result['nearest'][:3]}  blends {result['blends']}", flush=True)

    def pack_of(c: torch.Tensor, delta: torch.Tensor | None = None) -> torch.Tensor:
        """c [P, D] -> packs [P, R, 256] around the best blend."""
        packs = start_pack[None] + torch.einsum("pd,drs->prs", c, directions)
        if delta is not None:
            packs = packs + (delta * dim_std)[None, None, :]
        return packs

    # 4a. CMA-ES: one batched pass per generation
    es = CMA(dim, args.sigma, args.pop, seed=0)
    snapshots: dict[str, torch.Tensor] = {}  # best-so-far packs at checkpoints, scored held-out at the end
    curve, best_fit, best_c = [], -1.0, np.zeros(dim)
    sync(device)
    t0 = time.perf_counter()
    with torch.no_grad():
        while time.perf_counter() - t0 < args.budget:
            cands = es.ask()
            c = torch.from_numpy(cands).float().to(device)
            audio, samples, groups = sets["probe"].render(model, pack_of(c))
            sims = cosine(embed(audio, samples, groups), target[None]).cpu().numpy()
            fitness = sims - args.reg * (cands**2).mean(1)
            es.tell(fitness)
            i = int(np.argmax(fitness))
            if fitness[i] > best_fit:
                best_fit, best_c, best_sim = float(fitness[i]), cands[i].copy(), float(sims[i])
            curve.append((round(time.perf_counter() - t0, 2), best_sim, float(np.median(sims))))
            if es.gen in args.es_checkpoints:
                snapshots[f"es@{es.gen}"] = pack_of(torch.tensor(best_c, dtype=torch.float32, device=device)[None])[0]
    result["es"] = {
        "seconds": time.perf_counter() - t0,
        "generations": es.gen,
        "pop": args.pop,
        "curve": curve,
        "coef": best_c.tolist(),
        "fit_sim": best_sim,
        "sigma_end": es.sigma,
    }
    print(f"[{spk}] ES {es.gen} gens in {result['es']['seconds']:.1f}s: fit sim {best_sim:.4f}", flush=True)

    # 4b. gradient descent through Kokoro and the GE2E port
    c = torch.zeros(1, dim, device=device, requires_grad=True)
    delta = torch.zeros(256, device=device, requires_grad=True)
    opt = torch.optim.Adam([{"params": [c], "lr": args.lr}, {"params": [delta], "lr": args.lr}])
    curve, best_g = [], (-1.0, None, None, 0.0)
    model.train()  # cuDNN's LSTM backward needs training mode; the model has no dropout or batch norm
    enc.train()
    sync(device)
    t0 = time.perf_counter()
    steps = 0
    while time.perf_counter() - t0 < args.budget:
        audio, samples, groups = sets["probe"].render(model, pack_of(c, delta))
        sim = cosine(embed(audio, samples, groups)[0], target)
        penalty = args.reg * ((c**2).mean() + (delta**2).mean())
        obj = sim - penalty
        if float(obj.detach()) > best_g[0]:
            best_g = (float(obj.detach()), c.detach().clone(), delta.detach().clone(), float(sim.detach()))
        opt.zero_grad()
        (-obj).backward()
        opt.step()
        steps += 1
        curve.append((round(time.perf_counter() - t0, 2), best_g[3], float(sim)))
        if steps in args.grad_checkpoints:
            with torch.no_grad():
                snapshots[f"grad@{steps}"] = pack_of(best_g[1], best_g[2])[0]
    model.eval()
    enc.eval()
    result["grad"] = {
        "seconds": time.perf_counter() - t0,
        "steps": steps,
        "curve": curve,
        "coef": best_g[1][0].tolist(),
        "delta": best_g[2].tolist(),
        "fit_sim": best_g[3],
    }
    print(f"[{spk}] GRAD {steps} steps in {result['grad']['seconds']:.1f}s: fit sim {best_g[3]:.4f}", flush=True)
    if device == "cuda":
        result["peak_gpu_gib"] = torch.cuda.max_memory_allocated() / 2**30

    # 5. held-out: every candidate says the EVAL sentences
    with torch.no_grad():
        cands = {
            "nearest": basis_packs[order[0]],
            "blend": start_pack,
            "es": pack_of(torch.tensor(best_c, dtype=torch.float32, device=device)[None])[0],
            "grad": pack_of(best_g[1], best_g[2])[0],
        }
        cands.update(snapshots)
        if meta["speakers"][spk]["kind"] == "kokoro":
            cands["true"] = all_packs[names.index(spk)]
        audio, samples, groups = sets["eval"].render(model, torch.stack(list(cands.values())))
        embs = embed(audio, samples, groups)
        result["held_ge2e"] = {k: float(cosine(embs[i], target_held)) for i, k in enumerate(cands)}
        print(f"[{spk}] held-out GE2E {result['held_ge2e']}", flush=True)
        wav16 = enc.to16k(audio)
        out = {}
        n = len(sets["eval"])
        for r in range(audio.shape[0]):
            k = list(cands)[r // n]
            out[f"{k}/{r % n}"] = wav16[r, : math.ceil(2 * samples[r] / 3)]
        held_audio, held_samples, held_rate = clips["target_held"]
        held16 = enc.to16k(held_audio) if held_rate == 24_000 else held_audio
        for i, s in enumerate(held_samples):
            out[f"target_held/{i}"] = held16[i, : math.ceil(2 * s / 3) if held_rate == 24_000 else s]
        np.savez_compressed(
            args.out / f"audio_{spk}.npz",
            **{k: np.round(v.clamp(-1, 1).cpu().numpy() * 32767).astype(np.int16) for k, v in out.items()},
        )
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--inputs", type=Path, default=Path("var/voice_fit/inputs.npz"))
    parser.add_argument("--ge2e", type=Path, default=Path("var/voice_fit/ge2e.pt"))
    parser.add_argument("--weights", type=Path, default=Path("var/models/kokoro-v1.0.pt"))
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--speakers", nargs="*")
    parser.add_argument("--budget", type=float, default=45.0, help="seconds per method per speaker")
    parser.add_argument("--pop", type=int, default=32)
    parser.add_argument("--sigma", type=float, default=0.5)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--reg", type=float, default=0.02)
    parser.add_argument("--probe", type=int, default=0, help="use only the first N probe sentences (CPU smoke)")
    parser.add_argument("--max-basis", type=int, default=0, help="use only the first N basis voices (CPU smoke)")
    parser.add_argument("--es-checkpoints", type=int, nargs="*", default=[], help="generations to score held-out")
    parser.add_argument("--grad-checkpoints", type=int, nargs="*", default=[], help="steps to score held-out")
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("var/voice_fit/out"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True

    if args.threads:
        torch.set_num_threads(args.threads)
    inputs = np.load(args.inputs)
    if args.probe:
        inputs = {
            k: inputs[k]
            for k in inputs.files
            if not (k.startswith("ids/probe/") and int(k.split("/")[-1]) >= args.probe)
        }
        inputs = type("Inputs", (dict,), {"files": property(lambda self: list(self.keys()))})(inputs)
    meta = json.loads(str(inputs["meta"]))
    t0 = time.perf_counter()
    model = load_model(args.weights, args.device).requires_grad_(False)
    enc = ge2e_mod.load(str(args.ge2e), args.device)
    print(
        f"loaded in {time.perf_counter() - t0:.1f}s on {args.device}"
        f" ({torch.cuda.get_device_name() if args.device == 'cuda' else 'cpu'})",
        flush=True,
    )
    speakers = args.speakers or list(meta["speakers"])
    for spk in speakers:
        t0 = time.perf_counter()
        res = fit_speaker(spk, args, model, enc, inputs, meta, args.device)
        res["total_s"] = time.perf_counter() - t0
        res["args"] = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}
        (args.out / f"fit_{spk}.json").write_text(json.dumps(res, indent=1))
        print(f"[{spk}] done in {res['total_s']:.1f}s", flush=True)


if __name__ == "__main__":
    main()
