"""Phoneme error rate of the Kokoro voice changer's content encoder, without rendering anything.

    .venv/bin/python -m bench.vc_kokoro_per --encoders OLD.pt NEW.pt --penalties 0 2 4 \
        [--sources piper:joe flite:slt am_michael bf_lily]

Each source says the sentences below (``bench.vc_bench.render``); the encoder reads the clip and
its frames are decoded into phoneme runs (``kokoro_engine.decode_phonemes`` at each switch
penalty, then ``phoneme_runs``); PER is the edit distance between that sequence and espeak's
phonemes of the text (US English, British for ``b*`` voices), boundary tokens included, over the
length of espeak's. It isolates what the encoder and the decoding do to the words, in seconds
a clip, where ``bench.vc_bench`` renders and transcribes (minutes). Other sources pronounce some
words unlike espeak (flite has its own lexicon), so compare encoders and penalties per source.
Prints a table; asserts nothing.
"""

import argparse
import statistics
from pathlib import Path

import torch

from bench.vc_bench import SENTENCES, render
from tests.speech import edit_distance
from workers.gpu_tts.kokoro_torch.model import SAMPLES_PER_FRAME
from workers.gpu_vc.content.encoder import load_encoder
from workers.gpu_vc.content.mel import LogMel
from workers.gpu_vc.kokoro_engine import ENCODER_WEIGHTS, decode_phonemes, espeak_tokenizer, phoneme_runs

MORE_SENTENCES = (  # not used in training (those are generated word salad): everyday English
    "She sells fresh bread every Thursday at the small market near the station.",
    "Could you turn the heating down a little before you go to bed?",
    "Our flight was delayed by three hours because of the thick fog.",
    "He forgot his umbrella, so he arrived soaking wet and very grumpy.",
    "The children built a tall snowman with a carrot for a nose.",
    "Remember to water the plants and feed the cat while I am away.",
    "This recipe needs two eggs, a cup of sugar and some melted butter.",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--encoders", nargs="*", type=Path, default=[ENCODER_WEIGHTS])
    parser.add_argument("--penalties", nargs="*", type=float, default=[0.0])
    parser.add_argument("--sources", nargs="*", default=["piper:joe", "flite:slt", "am_michael", "bf_lily"])
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    tokenize, mel = espeak_tokenizer(), LogMel()
    encoders = {path: load_encoder(path) for path in args.encoders}
    texts = [*SENTENCES, *MORE_SENTENCES]
    per: dict[tuple[str, Path, float], list[float]] = {}
    for source in args.sources:
        lang = "en-gb" if source.startswith(("bf_", "bm_")) else "en-us"
        for text in texts:
            truth = [0, *tokenize(text, lang), 0]
            audio = torch.as_tensor(render(source, text), dtype=torch.float32)[None]
            frames = audio.shape[1] // SAMPLES_PER_FRAME
            with torch.inference_mode():
                features = mel(audio, torch.tensor([audio.shape[1]]))
                for path, encoder in encoders.items():
                    logits = encoder(features, torch.tensor([frames])).tokens[0, :, :frames]
                    log_probs = torch.log_softmax(logits.float(), 0)
                    for penalty in args.penalties:
                        ids, _ = phoneme_runs(decode_phonemes(log_probs, penalty))
                        error = edit_distance(ids.tolist(), truth) / len(truth)
                        per.setdefault((source, path, penalty), []).append(error)
    print(f"\n## Content encoder phoneme error rate ({len(texts)} sentences a source)\n")
    columns = [(path, penalty) for path in args.encoders for penalty in args.penalties]
    print("| source | " + " | ".join(f"{path.name} p={penalty:g}" for path, penalty in columns) + " |")
    print("|---|" + "---|" * len(columns))
    for source in [*args.sources, "mean"]:
        cells = []
        for path, penalty in columns:
            values = (
                [statistics.mean(per[(s, path, penalty)]) for s in args.sources]
                if source == "mean"
                else per[(source, path, penalty)]
            )
            cells.append(f"{statistics.mean(values):.3f}")
        print(f"| {source} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
