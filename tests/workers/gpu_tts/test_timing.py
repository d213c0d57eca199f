"""Word and character timestamps from Kokoro's predicted durations (``workers.gpu_tts.timing``).

The checks other servers' timestamps failed (empty or null alignments, characters lost or doubled,
times out of order or past the audio), on real Kokoro audio through the TTS activity's own path
(normaliser -> chunks -> engine -> chunks joined with a pause), plus: the ONNX export's audio is
unchanged by reading its durations, the ONNX and PyTorch backends time words alike, and word
boundaries land where pocketsphinx's forced alignment puts them (bench/timing_accuracy.py).
"""

import asyncio

import numpy as np
import pytest

from bench.timing_accuracy import SENTENCES, boundary_errors, summary
from tests.margins import expect
from workers.gpu_tts import timing
from workers.gpu_tts.chunking import split_into_chunks
from workers.gpu_tts.engine import CHUNK_PAUSE_SECONDS, SAMPLE_RATE, KokoroEngine, tts_engine
from workers.gpu_tts.normalise import normalise_for_speech

# Digits, money, a date, punctuation, a merged espeak pair ("of the" -> "ʌvðə"), curly quotes and
# an apostrophe; cut into two chunks as the activity would cut a longer text.
TEXT = "It costs $5.99, on 12/25/2024. “Don’t wait,” she said — a cup of the tea!"
CHUNK_LIMIT = 100


@pytest.fixture(scope="module")
def engine() -> KokoroEngine:
    return tts_engine()


@pytest.fixture(scope="module")
def clip(engine: KokoroEngine) -> tuple[np.ndarray, timing.Timing, list[str]]:
    chunks = split_into_chunks(normalise_for_speech(TEXT, "us"), CHUNK_LIMIT)
    pieces, timings = [], []
    for chunk in chunks:
        audio, t = engine.synthesize_timed(chunk, "af_heart")
        pieces += [engine.pause(), audio] if pieces else [audio]
        timings.append(t)
    return np.concatenate(pieces), timing.join(timings, CHUNK_PAUSE_SECONDS), chunks


def check(alignment: timing.CharAlignment, text: str, seconds: float) -> None:
    """Every character once and in order; times present, ordered and inside the audio."""
    starts, ends = alignment.character_start_times_seconds, alignment.character_end_times_seconds
    assert alignment.characters == list(text) and len(starts) == len(ends) == len(text) > 0
    assert all(isinstance(t, float) and np.isfinite(t) for t in starts + ends)
    assert all(0.0 <= s <= e <= seconds for s, e in zip(starts, ends, strict=True))
    assert all(b >= a for a, b in zip(starts, starts[1:], strict=False))
    assert all(s >= e for e, s in zip(ends, starts[1:], strict=False))  # no two characters overlap
    assert ends[-1] > starts[0]
    as_json = alignment.as_dict()
    assert as_json["characters"] == list(text) and None not in as_json["character_end_times_seconds"]


def test_every_character_of_the_typed_and_the_spoken_text_is_timed(clip) -> None:  # noqa: ANN001
    audio, t, chunks = clip
    seconds = len(audio) / SAMPLE_RATE
    assert len(chunks) == 2 and t.text == " ".join(chunks) and t.duration == pytest.approx(seconds, abs=1e-9)
    check(t.alignment, t.text, seconds)  # normalized_alignment
    check(timing.original_alignment(TEXT, t.alignment), TEXT, seconds)  # alignment
    # every word of the spoken text is there, once, in order, and takes time
    assert [w.word for w in t.words] == timing.WORD.findall(t.text)
    assert all(w.end > w.start for w in t.words)
    assert all(b.start >= a.end for a, b in zip(t.words, t.words[1:], strict=False))


def test_digits_and_symbols_take_the_time_of_the_words_read_for_them(clip) -> None:  # noqa: ANN001
    _, t, _ = clip
    spoken = {w.word: w for w in reversed(t.words)}  # the first of each
    typed = timing.original_alignment(TEXT, t.alignment)

    def span(part: str) -> tuple[float, float]:
        i = TEXT.index(part)
        return typed.character_start_times_seconds[i], typed.character_end_times_seconds[i + len(part) - 1]

    price, date = span("$5.99"), span("12/25/2024")
    assert price[0] == pytest.approx(spoken["five"].start, abs=0.03) and price[1] >= spoken["cents"].start
    assert date[0] >= spoken["cents"].end and date[0] == pytest.approx(spoken["December"].start, abs=0.03)
    assert date[1] >= spoken["four"].start
    # the second chunk starts after the pause; "Don’t" is one word; the characters between the
    # chunks' words (". “") share the gap, the pause included
    assert spoken["Don’t"].start >= spoken["four"].end + CHUNK_PAUSE_SECONDS
    gap = t.text.index(". “")
    assert t.alignment.character_start_times_seconds[gap] == spoken["four"].end
    assert t.alignment.character_end_times_seconds[gap + 2] == pytest.approx(spoken["Don’t"].start)


def test_merged_espeak_words_get_their_own_increasing_times(clip) -> None:  # noqa: ANN001
    _, t, _ = clip
    tail = t.words[-5:]
    assert [w.word for w in tail] == ["a", "cup", "of", "the", "tea"]
    for a, b in zip(tail, tail[1:], strict=False):
        assert a.start < a.end <= b.start < b.end


def test_captions(clip) -> None:  # noqa: ANN001
    _, t, _ = clip
    words = timing.words_of(timing.original_alignment(TEXT, t.alignment))
    assert " ".join(w.word for w in words) == " ".join(TEXT.split())
    srt, vtt = timing.srt(words), timing.webvtt(words)
    assert srt.startswith("1\n00:00:00,") and "$5.99, on 12/25/2024." in srt
    assert vtt.startswith("WEBVTT\n\n00:00:00.") and " --> " in vtt
    cues = timing.cues(words)
    assert cues[0].text.endswith("12/25/2024.")  # a sentence's end ends a cue
    assert all(c.end > c.start and c.end - c.start <= 7.0 and len(c.text) <= 42 for c in cues)
    assert all(b.start >= a.end for a, b in zip(cues, cues[1:], strict=False))


def test_async_twin_and_plain_synthesis_agree(engine: KokoroEngine) -> None:
    text = "A cup of the tea."
    audio, t = engine.synthesize_timed(text, "am_michael")
    audio_async, t_async = asyncio.run(engine.synthesize_timed_async(text, "am_michael"))
    assert np.array_equal(audio, engine.synthesize(text, "am_michael")) and np.array_equal(audio, audio_async)
    assert t.as_dict() == t_async.as_dict() == timing.Timing.from_dict(t.as_dict()).as_dict()


def test_every_normaliser_case_is_timed_whole(engine: KokoroEngine) -> None:
    """No model: the real front end (normaliser, chunks, espeak windows) and ``timed`` on made-up
    durations and noise, for every sentence of the normaliser's test set (money, dates, times,
    phones, units, fractions, titles, symbols), and a text longer than a window spoken as one chunk."""
    from tests.workers.gpu_tts.normalise_cases import CASES
    from workers.gpu_tts.backends import Spoken

    rng = np.random.default_rng(0)
    long_text = " ".join(f"Item {i}: it costs ${i}.50, or so they say; don't you think?" for i in range(12))
    for _, text, _, accent in [*CASES, ("long", long_text, "", "us")]:
        voice = "bf_emma" if accent == "uk" else "af_heart"
        limit = 10_000 if text == long_text else CHUNK_LIMIT
        chunks = split_into_chunks(normalise_for_speech(text, accent), limit)
        timings = []
        for chunk in chunks:
            windows = engine.windows(chunk, voice)
            assert len(windows) > 1 or text != long_text
            spoken = []
            for w in windows:
                frames = rng.integers(1, 6, len(w.utterance.ids))
                spoken.append(Spoken(rng.normal(0, 0.1, frames.sum() * 600).astype(np.float32), frames))
            audio, t = engine.timed(chunk, engine.speaking_voice(voice).lang, windows, spoken)
            assert t.duration == len(audio) / SAMPLE_RATE and len(t.words) == len(timing.WORD.findall(chunk))
            timings.append(t)
        clip = timing.join(timings, CHUNK_PAUSE_SECONDS)
        check(clip.alignment, " ".join(chunks), clip.duration)
        check(timing.original_alignment(text, clip.alignment), text, clip.duration)


def test_pure_alignment_edge_cases() -> None:
    """No model: a word espeak gives no sound of its own sits between its neighbours; text with no
    words at all still times every character."""
    phonemes = "həlˈoʊ wˈɜːld"
    starts = np.arange(len(phonemes)) * 0.05
    ends = starts + 0.05
    sounds = {"hello": "həlˈoʊ", "world": "wˈɜːld", "xyz": ""}
    words = timing.word_times("hello xyz world", phonemes, starts, ends, lambda w: sounds[w], 1.0, lead_s=0.0)
    assert [w.word for w in words] == ["hello", "xyz", "world"]
    assert words[0].end <= words[1].start <= words[1].end <= words[2].start
    empty = timing.Timing("?!", 0.5, [])
    check(empty.alignment, "?!", 0.5)
    # a cue ends at a sentence's end the voice pauses after, not at an abbreviation's dot
    said = [("Dr.", 0.0, 0.3), ("Smith", 0.32, 0.6), ("left.", 0.6, 0.9), ("Bye.", 1.3, 1.6)]
    cue_words = [timing.WordTime(w, s, e, 0, 0) for w, s, e in said]
    assert [c.text for c in timing.cues(cue_words)] == ["Dr. Smith left.", "Bye."]
    assert timing.srt(cue_words).splitlines()[:3] == ["1", "00:00:00,000 --> 00:00:00,900", "Dr. Smith left."]


# The backends and the ONNX output


def test_reading_the_durations_leaves_the_onnx_audio_as_it_was(engine: KokoroEngine, record_property) -> None:  # noqa: ANN001
    """The export with the extra output against the export as shipped: same length, log-mel within
    0.5 dB (the noise of unvoiced bins alone moves it up to 0.38 dB; another voice is ~20 dB off)."""
    import onnxruntime as ort

    from tests.workers.gpu_tts.test_kokoro_torch import logmel_db
    from workers.gpu_tts.assets import ensure_assets
    from workers.gpu_tts.backends import OnnxBackend

    if not isinstance(engine.backend, OnnxBackend):
        pytest.skip("the engine runs the PyTorch port here")
    plain = ort.InferenceSession(str(ensure_assets()[0]), providers=["CPUExecutionProvider"])
    u = engine.windows("Hello there, this is a test of the timing.", "af_heart")[0].utterance
    feeds = {
        "tokens": np.array([u.ids], dtype=np.int64),
        "style": np.asarray(u.style, np.float32).reshape(1, -1),
        "speed": np.array([u.speed], dtype=np.float32),
    }
    (reference,) = plain.run(None, feeds)
    spoken = engine.backend.speak([u])[0]
    assert len(spoken.audio) == reference.size == spoken.durations.sum() * 600
    assert len(spoken.durations) == len(u.ids) and spoken.durations.min() >= 1
    expect(record_property, "timing: onnx audio with durations output, log-mel dB",
           logmel_db(spoken.audio, reference.ravel()), below=0.5)  # fmt: skip


def test_onnx_and_torch_backends_time_words_alike(engine: KokoroEngine, record_property) -> None:  # noqa: ANN001
    """The int8 export and the PyTorch port predict the same durations (to a frame here and there):
    every token boundary and every word within 2 frames (50 ms)."""
    from workers.gpu_tts.assets import ensure_assets, ensure_torch_weights
    from workers.gpu_tts.backends import OnnxBackend, TorchBackend

    model, voices = ensure_assets()
    onnx = engine if isinstance(engine.backend, OnnxBackend) else KokoroEngine(OnnxBackend(model), voices)
    torch_engine = KokoroEngine(TorchBackend(ensure_torch_weights(model), "cpu", compile=False), voices)
    text = "She sells sea shells by the sea shore, and a cup of the tea."
    windows = onnx.windows(text, "bf_emma")
    spoken = [e.backend.speak([w.utterance for w in windows]) for e in (onnx, torch_engine)]
    frames = [np.cumsum(np.concatenate([s.durations for s in sp])) for sp in spoken]
    expect(record_property, "timing: onnx vs torch token boundary, frames",
           np.abs(frames[0] - frames[1]).max(), at_most=2)  # fmt: skip
    (_, a), (_, b) = (onnx.timed(text, "en-gb", windows, sp) for sp in spoken)
    assert [w.word for w in a.words] == [w.word for w in b.words]
    gap = max(max(abs(x.start - y.start), abs(x.end - y.end)) for x, y in zip(a.words, b.words, strict=True))
    # in frames (25 ms), rounded: two frames apart is 0.05000000000000027 s in floating point
    expect(record_property, "timing: onnx vs torch word boundary, frames", round(gap * 40, 6), at_most=2)


def test_word_boundaries_land_where_pocketsphinx_aligns_them(engine: KokoroEngine, record_property) -> None:  # noqa: ANN001
    """Measured on an AMD EPYC, int8 ONNX, 1 or 2 threads alike: on these three sentences |error|
    between words median 13 ms, 95th percentile 44 ms; at the audio's edges at most 70 ms (the
    aligner stretches the first and last word over the quiet start and tail). On all six sentences
    of bench/timing_accuracy.py: median 15, p95 45, max 55 ms; edges 80 ms; the torch port alike."""
    inner, edges = [], []
    for text, voice in [SENTENCES[0], SENTENCES[3], SENTENCES[5]]:
        rows = boundary_errors(engine, text, voice)
        for k, (_, s, e, ts, te) in enumerate(rows):
            (edges if k == 0 else inner).append(1000 * (s - ts))
            (edges if k == len(rows) - 1 else inner).append(1000 * (e - te))
    between, edge = summary(inner), summary(edges)
    expect(record_property, "timing vs pocketsphinx, between words, median |ms|", between["median"], at_most=30)
    expect(record_property, "timing vs pocketsphinx, between words, p95 |ms|", between["p95"], at_most=60)
    expect(record_property, "timing vs pocketsphinx, audio edges, max |ms|", edge["max"], at_most=120)
