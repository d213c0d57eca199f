"""Training text and voices for the content encoder, made offline and reproducibly from a seed.

Sentences are generated, not taken from a corpus: common function words interleaved with words
drawn from the CMU pronouncing dictionary that pocketsphinx ships (about 130k words, so rare
sounds and clusters come up), with commas and sentence ends for phrasing. They are phonemised
here, where espeak is, in US and UK English, so the GPU machine needs only token ids.
Voices: every Kokoro v1.0 pack in kokoro-js (all languages: more speakers), a subset of each
pack's length-indexed rows, in float16 (small enough to travel to the GPU machine).

    .venv/bin/python -m workers.gpu_vc.content.corpus --out var/vc_train [--sentences 20000] [--seed 0]
"""

import argparse
import random
import tarfile
import tempfile
from pathlib import Path

import numpy as np

# Bench sources and held-out speakers: never trained on, so the bench measures unseen voices.
HELD_OUT_VOICES = ("am_michael", "bf_lily", "af_sky", "bm_lewis")
PACK_ROWS = range(4, 400, 5)  # pack rows kept (a row per phoneme count): sentences here are 10-300 tokens
FUNCTION_WORDS = (
    "the a an and but or of to in on at for with from by as is was are were be been it this that "
    "these those he she they we you i my your our their his her its not no so if then than when "
    "where which who what how there here all some any each every more most very just only also "
    "can could will would should may might must do does did have has had"
).split()


def dictionary_words(rng: random.Random) -> list[str]:
    """Plain lowercase words of the CMU dictionary (no alternates, no punctuation)."""
    import pocketsphinx

    path = Path(pocketsphinx.__file__).parent / "model" / "en-us" / "cmudict-en-us.dict"
    words = {line.split(" ", 1)[0] for line in path.read_text(encoding="utf-8").splitlines()}
    words = sorted(w for w in words if w.isalpha() and w.isascii() and 2 <= len(w) <= 12)
    rng.shuffle(words)
    return words


def sentence(rng: random.Random, words: list[str]) -> str:
    """One generated sentence of 4-18 words, about 40% function words, with phrasing punctuation."""
    n = rng.randint(4, 18)
    out = [rng.choice(FUNCTION_WORDS) if rng.random() < 0.4 else rng.choice(words) for _ in range(n)]
    for i in range(3, n - 2):
        if rng.random() < 0.08:
            out[i] += ","
    end = rng.choices([".", "?", "!"], weights=[0.75, 0.18, 0.07])[0]
    return " ".join(out).capitalize() + end


def phonemised(sentences: list[str], rng: random.Random) -> tuple[np.ndarray, np.ndarray]:
    """Kokoro token ids of each sentence (US or UK English at random), concatenated, and the offsets."""
    from kokoro_onnx.tokenizer import Tokenizer

    from workers.gpu_tts.engine import vocabulary

    tokenizer = Tokenizer(vocab=vocabulary())
    ids: list[int] = []
    offsets = [0]
    for text in sentences:
        lang = "en-us" if rng.random() < 0.6 else "en-gb"
        tokens = tokenizer.tokenize(" ".join(tokenizer.phonemize(text, lang).split()))[:300]
        ids.extend(tokens)
        offsets.append(len(ids))
    return np.asarray(ids, np.int16), np.asarray(offsets, np.int64)


def all_voice_packs() -> dict[str, np.ndarray]:
    """Every voice pack in kokoro-js, [510, 256] float32 each (npm is needed, as for setup)."""
    from workers.gpu_tts.assets import fetch_voices_tarball

    with tempfile.TemporaryDirectory() as tmp:
        with tarfile.open(fetch_voices_tarball(Path(tmp))) as tar:
            members = [m for m in tar.getmembers() if m.name.startswith("package/voices/") and m.name.endswith(".bin")]
            return {
                Path(m.name).stem: np.frombuffer(tar.extractfile(m).read(), np.float32).reshape(-1, 256).copy()
                for m in sorted(members, key=lambda m: m.name)
            }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("var/vc_train"))
    parser.add_argument("--sentences", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    words = dictionary_words(rng)
    sentences = [sentence(rng, words) for _ in range(args.sentences)]
    ids, offsets = phonemised(sentences, rng)
    packs = all_voice_packs()
    names = sorted(packs)
    rows = np.asarray(list(PACK_ROWS))
    args.out.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        args.out / "corpus.npz",
        ids=ids,
        offsets=offsets,
        voices=np.asarray(names),
        held_out=np.asarray([n in HELD_OUT_VOICES for n in names]),
        pack_rows=rows,
        packs=np.stack([packs[n][rows] for n in names]).astype(np.float16),  # [V, R, 256]
    )
    print(f"{len(sentences)} sentences, {len(ids)} tokens, {len(names)} voices -> {args.out / 'corpus.npz'}")
    print("e.g.", *sentences[:3], sep="\n  ")


if __name__ == "__main__":
    main()
