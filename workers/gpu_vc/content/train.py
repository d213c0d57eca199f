"""Train the content encoder on Kokoro renders made on the fly (meant for a CUDA machine).

    python -m workers.gpu_vc.content.train --weights var/models/kokoro-v1.0.pt \
        --corpus var/vc_train/corpus.npz --state var/vc_train/state.pt --export OUT/content_encoder.pt \
        --minutes 9 --total-minutes 18 [--seed 0]

Runs for ``--minutes`` of wall time and can be called again: ``--state`` keeps the weights, the
optimiser, the step and the time trained so far, so several short calls make one run whose
learning-rate schedule spans ``--total-minutes``. Each clean batch is used ``--reuse`` times, with
different augmentation (rendering a batch costs more than a training step: reusing it makes more
steps a minute). ``--asr-weight`` weighs the regression head that the converter no longer reads
(it uses phonemes, F0 and energy): a lower weight leaves more of the shared layers to the phoneme
head. Every ``--eval-every`` steps the losses on a fixed batch of held-out voices (clean and
augmented) are printed. ``--export`` receives the float16 weights that ship.
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor

from workers.gpu_tts.kokoro_torch.model import load_model
from workers.gpu_vc.content.augment import augment
from workers.gpu_vc.content.encoder import F0_SCALE, ContentEncoder, load_encoder, save_encoder
from workers.gpu_vc.content.mel import LogMel
from workers.gpu_vc.content.synth import Batch, Corpus, make_batch

ASR_STD = 0.28  # the decoder features' spread: losses are in units of it
ENERGY_STD = 3.0


def frame_mask(frames: Tensor, size: int, per_frame: int = 1) -> Tensor:
    return torch.arange(size * per_frame, device=frames.device)[None, :] < (frames * per_frame)[:, None]


def losses(encoder: ContentEncoder, mel: LogMel, batch: Batch) -> dict[str, Tensor]:
    """L1 losses per head over real frames, in units of each target's spread."""
    with torch.autocast(batch.audio.device.type, dtype=torch.bfloat16, enabled=batch.audio.is_cuda):
        content = encoder(mel(batch.audio, batch.samples), batch.frames)
    size = content.asr.shape[-1]
    m1, m2 = frame_mask(batch.frames, size), frame_mask(batch.frames, size, 2)
    asr = (content.asr.float() - batch.asr[..., :size]).abs().mean(1)
    f0 = (content.f0.float() - batch.f0[:, : 2 * size]).abs() / F0_SCALE
    energy = (content.energy.float() - batch.energy[:, : 2 * size]).abs() / ENERGY_STD
    logits = content.tokens.float().transpose(1, 2)[m1]  # [frames, VOCAB]
    labels = batch.tokens[:, :size][m1]
    return {
        "tokens": F.cross_entropy(logits, labels),
        "accuracy": (logits.argmax(-1) == labels).float().mean(),
        "asr": asr[m1].mean() / ASR_STD,
        "f0": f0[m2].mean(),
        "energy": energy[m2].mean(),
    }


def learning_rate(progress: float, peak: float) -> float:
    """Linear warm-up over the first 3% of the run, then a cosine down to 5% of the peak."""
    if progress < 0.03:
        return peak * progress / 0.03
    return peak * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(1.0, (progress - 0.03) / 0.97))))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--weights", type=Path, default=Path("var/models/kokoro-v1.0.pt"))
    parser.add_argument("--corpus", type=Path, default=Path("var/vc_train/corpus.npz"))
    parser.add_argument("--state", type=Path, default=Path("var/vc_train/state.pt"))
    parser.add_argument("--export", type=Path, default=Path("var/vc_train/content_encoder.pt"))
    parser.add_argument("--minutes", type=float, default=9.0)
    parser.add_argument("--total-minutes", type=float, default=18.0)
    parser.add_argument("--max-steps", type=int, default=0, help="stop after this many steps (smoke tests)")
    parser.add_argument("--batch", type=int, default=48)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--eval-every", type=int, default=200)
    parser.add_argument("--eval-batch", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--reuse", type=int, default=2, help="training steps per rendered batch")
    parser.add_argument("--asr-weight", type=float, default=0.5)
    parser.add_argument("--init", type=Path, help="start from these shipped weights (a head added since starts fresh)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args()

    device = torch.device(args.device)
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
    kokoro = load_model(args.weights, str(device))
    corpus = Corpus(args.corpus, device)
    mel = LogMel().to(device)
    encoder = load_encoder(args.init, device, strict=False).train() if args.init else ContentEncoder().to(device)
    opt = torch.optim.AdamW(encoder.parameters(), lr=args.lr, betas=(0.9, 0.98), weight_decay=0.01)
    step, trained_s = 0, 0.0
    if args.state.exists():
        saved = torch.load(args.state, map_location=device, weights_only=True)
        encoder.load_state_dict(saved["encoder"])
        opt.load_state_dict(saved["opt"])
        step, trained_s = saved["step"], saved["trained_s"]
        print(f"resumed at step {step}, {trained_s / 60:.1f} min trained")
    gen = torch.Generator().manual_seed(args.seed * 1_000_003 + step)  # a resumed run draws new batches
    eval_gen = torch.Generator().manual_seed(12345)
    held_clean = make_batch(kokoro, corpus, args.eval_batch, eval_gen, held_out=True)
    held_noisy = augment(held_clean, eval_gen)

    def evaluate() -> str:
        encoder.eval()
        with torch.no_grad():
            parts = []
            for name, b in (("clean", held_clean), ("augmented", held_noisy)):
                loss = losses(encoder, mel, b)
                parts.append(name + " " + " ".join(f"{k} {v.item():.3f}" for k, v in loss.items()))
        encoder.train()
        return " | ".join(parts)

    if step == 0:
        print(f"eval at the start: {evaluate()}", flush=True)
    start = time.monotonic()
    budget = args.minutes * 60
    render_s = 0.0
    encoder.train()
    while time.monotonic() - start < budget and not (args.max_steps and step >= args.max_steps):
        t0 = time.monotonic()
        if device.type == "cuda":
            torch.cuda.synchronize()  # else the previous steps' queued work is counted as rendering
            t0 = time.monotonic()
        clean = make_batch(kokoro, corpus, args.batch, gen)
        if device.type == "cuda":
            torch.cuda.synchronize()
        render_s += time.monotonic() - t0
        # augmentation strengths spread from mild to strong (two uses: 0.5 and 1.2, as first trained)
        strengths = torch.linspace(0.5, 1.2, args.reuse).tolist() if args.reuse > 1 else [0.85]
        for strength in strengths:
            variant = augment(clean, gen, strength=strength)
            progress = (trained_s + time.monotonic() - start) / (args.total_minutes * 60)
            for group in opt.param_groups:
                group["lr"] = learning_rate(progress, args.lr)
            loss = losses(encoder, mel, variant)
            total = loss["tokens"] + args.asr_weight * loss["asr"] + loss["f0"] + 0.5 * loss["energy"]
            opt.zero_grad(set_to_none=True)
            total.backward()
            torch.nn.utils.clip_grad_norm_(encoder.parameters(), 1.0)
            opt.step()
            step += 1
            if step % 50 == 0:
                elapsed = time.monotonic() - start
                print(
                    f"step {step} {elapsed:.0f}s lr {opt.param_groups[0]['lr']:.2e} "
                    + " ".join(f"{k} {v.item():.3f}" for k, v in loss.items())
                    + f" (rendering {100 * render_s / elapsed:.0f}% of the time)",
                    flush=True,
                )
            if step % args.eval_every == 0:
                print(f"eval step {step}: {evaluate()}", flush=True)
    trained_s += time.monotonic() - start
    print(f"done: step {step}, {trained_s / 60:.1f} min trained; eval {evaluate()}", flush=True)
    args.state.parent.mkdir(parents=True, exist_ok=True)
    torch.save(
        {"encoder": encoder.state_dict(), "opt": opt.state_dict(), "step": step, "trained_s": trained_s}, args.state
    )
    args.export.parent.mkdir(parents=True, exist_ok=True)
    save_encoder(encoder, args.export)
    print(f"saved {args.state} and {args.export} ({args.export.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
