"""Is a recording usable to fit a voice to, and which part of it is the speaker?

A fit spends minutes of GPU (or a quarter of an hour of CPU) and the user's credits, and a fit
to music, noise or two people yields a voice that is nobody's. So a recording is checked first,
with cheap signal measures that say in words what is wrong:

* length: at most 3 minutes, and at least 10 s of speech (time inside speech, pauses excluded);
* silence: nothing above -55 dBFS;
* not speech (noise, tones, music): speech is voiced (periodic) in syllable-long runs, and its
  pitch glides: from one 10 ms frame to the next it moves, but by less than a semitone. Noise is
  rarely periodic and its "pitch" jumps; tones and instrumental notes hold one pitch; chords jump
  between their notes. WebRTC's VAD alone cannot tell: it calls white noise speech (measured: all
  of it) and, at its most aggressive, still most tones mixed with noise;
* several speakers: the speech is cut into ~3 s segments, each embedded by the speaker encoder;
  the segments are split in two groups (2-means on cosine) and the recording is refused when both
  groups are substantial and their centroids are far apart (two different voices), where one
  voice reading varied sentences stays close. Voices that sound alike are not caught.

Thresholds and what they were measured on: ``docs/benchmarks.md`` ("Voice fitting", recording
checks) and ``tests/workers/gpu_tts/voice_fit/test_recording.py``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

RATE = 16_000
MIN_SPEECH_S = 10.0
MAX_SECONDS = 180.0
SILENT_DBFS = -55.0

# Pitch tracking (normalised autocorrelation, 40 ms windows every 10 ms, 65-400 Hz).
_FRAME, _HOP = 640, 160
_VOICED_PEAK = 0.5  # autocorrelation peak of a voiced frame (Praat's voicing threshold is 0.45)
_MIN_VOICED_RUN = 5  # frames (50 ms): short periodic flukes in noise do not count
_SYLLABLE_REACH = 15  # frames (150 ms) around a voiced run that still count as speech
_ACTIVE_DB = 35.0  # frames within this many dB of the loud level are "active"
# Thresholds, measured on Kokoro, Piper and a human (telephone prompts, also with noise at 15 dB
# SNR) against noise, chords, melodies and pulsed tones (docs/benchmarks.md, "Voice fitting").
MIN_SPEECH_SHARE = 0.5  # speech time / active time (speech: 0.97-1.00)
MIN_GLIDING_PITCH = 0.6  # share of voiced frame pairs whose pitch moves 0.05-1 semitone (speech: 0.77-0.84)
# Several speakers (GE2E cosine of the two groups' centroids; measured in the tests).
SEGMENT_S = 3.0
SPEAKERS_APART = 0.75  # one voice: 0.88-0.98; a woman's and a man's voice: 0.60-0.63
MIN_GROUP_SHARE = 0.2


@dataclass(frozen=True)
class SpeechStats:
    """What :func:`speech_stats` measured on a recording."""

    seconds: float  # the whole recording
    level_dbfs: float  # RMS of the loudest 5 % of 10 ms frames
    active_s: float  # time within 35 dB of that level
    speech_s: float  # active time in or near voiced runs
    gliding_pitch: float  # share of consecutive voiced frames whose pitch moves 0.05-1 semitone


def to_16k(samples: np.ndarray, rate: int) -> np.ndarray:
    """Mono float32 at 16 kHz (polyphase resampling; a [n, channels] array is averaged)."""
    from scipy.signal import resample_poly

    x = np.asarray(samples, dtype=np.float64)
    if x.ndim == 2:
        x = x.mean(axis=1)
    if rate != RATE:
        g = np.gcd(int(rate), RATE)
        x = resample_poly(x, RATE // g, int(rate) // g)
    return x.astype(np.float32)


def _frames(x: np.ndarray) -> np.ndarray:
    n = 1 + max(0, (len(x) - _FRAME) // _HOP)
    idx = np.arange(_FRAME)[None, :] + _HOP * np.arange(n)[:, None]
    return np.pad(x, (0, max(0, _FRAME - len(x))))[idx]


def _pitch(wav: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per 10 ms frame: F0 (Hz), autocorrelation peak (0..1) and level (dBFS).

    Boersma's method: the windowed frame's autocorrelation divided by the window's; the F0 is
    the shortest-lag local peak within 85 % of the highest (octave errors), refined parabolically.
    """
    from scipy.signal import butter, sosfilt

    band = sosfilt(butter(4, [70, 1000], btype="band", fs=RATE, output="sos"), wav)
    frames = _frames(band)
    level = 10 * np.log10(np.mean(_frames(wav) ** 2, axis=1) + 1e-12)
    window = np.hanning(_FRAME)
    frames = (frames - frames.mean(axis=1, keepdims=True)) * window
    nfft = 2048
    ac = np.fft.irfft(np.abs(np.fft.rfft(frames, nfft)) ** 2)[:, :_FRAME]
    wac = np.fft.irfft(np.abs(np.fft.rfft(window, nfft)) ** 2)[:_FRAME]
    r = ac / np.maximum(ac[:, :1], 1e-12) / (wac / wac[0])
    lo, hi = RATE // 400, RATE // 65
    seg = r[:, lo - 1 : hi + 1]
    mid = seg[:, 1:-1]
    peaks = (mid >= seg[:, :-2]) & (mid > seg[:, 2:])
    best = np.where(peaks, mid, -1.0).max(axis=1)
    k = np.argmax(peaks & (mid >= 0.85 * best[:, None]), axis=1)
    rows = np.arange(len(seg))
    a, b, c = seg[rows, k], seg[rows, k + 1], seg[rows, k + 2]
    den = a - 2 * b + c
    offset = np.clip(np.where(np.abs(den) > 1e-9, 0.5 * (a - c) / np.where(den == 0, 1, den), 0.0), -0.5, 0.5)
    return RATE / (lo + k + offset), np.where(best > -1, b, 0.0), level


def _dilate(mask: np.ndarray, reach: int) -> np.ndarray:
    if reach <= 0 or not mask.any():
        return mask
    return np.convolve(mask.astype(float), np.ones(2 * reach + 1), mode="same") > 0


def _runs_at_least(mask: np.ndarray, length: int) -> np.ndarray:
    """Only the True runs of ``mask`` that are at least ``length`` long."""
    out = np.zeros_like(mask)
    edges = np.flatnonzero(np.diff(np.concatenate(([0], mask.astype(np.int8), [0]))))
    for start, stop in zip(edges[::2], edges[1::2], strict=True):
        if stop - start >= length:
            out[start:stop] = True
    return out


def speech_stats(wav: np.ndarray) -> SpeechStats:
    """Measures of a 16 kHz recording (see the module docstring)."""
    f0, peak, level = _pitch(np.asarray(wav, np.float64))
    loud = float(np.percentile(level, 95)) if len(level) else -120.0
    active = level > loud - _ACTIVE_DB
    voiced = _runs_at_least(active & (peak > _VOICED_PEAK), _MIN_VOICED_RUN)
    speech = active & _dilate(voiced, _SYLLABLE_REACH)
    semitones = 12 * np.log2(np.maximum(f0, 1.0))
    pairs = voiced[1:] & voiced[:-1]
    moves = np.abs(np.diff(semitones))[pairs]
    return SpeechStats(
        seconds=len(wav) / RATE,
        level_dbfs=loud,
        active_s=float(active.sum()) * _HOP / RATE,
        speech_s=float(speech.sum()) * _HOP / RATE,
        gliding_pitch=float(np.mean((moves >= 0.05) & (moves < 1.0))) if len(moves) else 0.0,
    )


def speech(samples: np.ndarray, rate: int) -> np.ndarray:
    """The recording at 16 kHz with long silences cut out: what the speaker embedding reads.

    resemblyzer's ``trim_long_silences`` (WebRTC VAD, 30 ms windows, smoothed, silences over
    ~0.2 s dropped), with its PCM packed by numpy; the whole clip when too little is left.
    """
    from scipy.ndimage import binary_dilation

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # webrtcvad imports pkg_resources
        import webrtcvad

    wav = to_16k(samples, rate)
    window = 30 * RATE // 1000
    cut = wav[: len(wav) - len(wav) % window]
    if len(cut) < window:
        return wav
    peak = float(np.abs(cut).max())
    pcm = np.round(cut / max(peak, 1e-9) * 0.9 * 32767).astype("<i2").tobytes()  # the VAD wants a level
    vad = webrtcvad.Vad(3)
    flags = np.array(
        [vad.is_speech(pcm[s * 2 : (s + window) * 2], RATE) for s in range(0, len(cut), window)], dtype=float
    )
    width = 8
    padded = np.concatenate((np.zeros((width - 1) // 2), flags, np.zeros(width // 2)))
    averaged = np.cumsum(padded)
    averaged[width:] = averaged[width:] - averaged[:-width]
    mask = np.round(averaged[width - 1 :] / width).astype(bool)
    mask = binary_dilation(mask, np.ones(7))
    trimmed = cut[np.repeat(mask, window)]
    return trimmed if len(trimmed) >= RATE // 4 else wav


NARROW_BANDS = (4000.0, 5512.5)  # Hz: what 8 kHz (telephone) and 11.025 kHz recordings can hold


def band_edge(samples: np.ndarray, rate: int) -> float | None:
    """The recording's bandwidth when it is narrower than the speaker encoder's 8 kHz, else None.

    A telephone recording (8 kHz, or upsampled from it) has nothing above 4 kHz. Its embedding is
    then compared with renders low-passed the same way (``fitter``), so the fit matches the voice,
    not the missing treble. Measured as the share of the spectrum's power above each candidate edge
    (Welch): full-band speech has 7e-3 to 2e-2 of its power above 4.2 kHz, telephone prompts
    upsampled from 8 kHz 1e-5; the threshold is 1e-4.
    """
    from scipy.signal import welch

    for edge in NARROW_BANDS:
        if rate <= 2 * edge + 1:
            return edge
    wav = to_16k(samples, rate)
    if len(wav) < 2048:
        return None
    freqs, power = welch(wav, RATE, nperseg=1024)
    total = float(power.sum()) or 1.0
    for edge in NARROW_BANDS:
        if float(power[freqs > edge * 1.05].sum()) / total < 1e-4:
            return edge
    return None


def segment_embeddings(wav: np.ndarray, device: str = "cpu") -> np.ndarray:
    """[n, 256] speaker embeddings of consecutive ~3 s segments of a 16 kHz speech clip."""
    from workers.gpu_tts.voice_fit.speaker import speaker_encoder

    size = int(SEGMENT_S * RATE)
    starts = list(range(0, max(1, len(wav) - size // 2), size))
    clips = [wav[s : s + size] for s in starts if len(wav[s : s + size]) >= size // 2]
    if not clips:
        return np.zeros((0, 256), np.float32)
    import torch

    encoder = speaker_encoder(device)
    batch = torch.zeros(len(clips), max(len(c) for c in clips))
    for row, c in enumerate(clips):
        batch[row, : len(c)] = torch.from_numpy(np.asarray(c, np.float32))
    with torch.no_grad():
        embs = encoder(batch.to(encoder.mel.device), [len(c) for c in clips], rate=RATE)
    return embs.cpu().numpy()


def two_groups(embs: np.ndarray, iterations: int = 20) -> tuple[np.ndarray, float]:
    """Split unit embeddings in two (2-means on cosine, seeded by the least similar pair):
    (group of each row, cosine of the two centroids). Deterministic."""
    sims = embs @ embs.T
    i, j = np.unravel_index(np.argmin(sims), sims.shape)
    centroids = embs[[i, j]]
    labels = np.zeros(len(embs), dtype=int)
    for _ in range(iterations):
        labels = np.argmax(embs @ centroids.T, axis=1)
        if labels.min() == labels.max():
            break
        new = np.stack([embs[labels == k].mean(0) for k in (0, 1)])
        new /= np.linalg.norm(new, axis=1, keepdims=True)
        if np.allclose(new, centroids):
            break
        centroids = new
    return labels, float(centroids[0] @ centroids[1])


def speakers_apart(wav16: np.ndarray, device: str = "cpu") -> tuple[float, float]:
    """(centroid cosine of the two groups, share of the smaller group) for a speech clip; (1, 0)
    when there are too few segments to tell."""
    embs = segment_embeddings(wav16, device)
    if len(embs) < 4:
        return 1.0, 0.0
    labels, cosine = two_groups(embs)
    return cosine, float(min(np.mean(labels == 0), np.mean(labels == 1)))


def check_recording(samples: np.ndarray, rate: int) -> str | None:
    """A message for the user if the recording cannot be fitted to, else None."""
    x = np.asarray(samples, dtype=np.float32)
    if x.size == 0 or rate <= 0:
        return "The recording is empty."
    if not np.all(np.isfinite(x)):
        return "The recording could not be read (it holds invalid samples)."
    seconds = (x.shape[0] if x.ndim else 0) / rate
    if seconds > MAX_SECONDS:
        return f"The recording is {seconds / 60:.1f} minutes long; use at most {MAX_SECONDS / 60:.0f} minutes."
    if seconds < MIN_SPEECH_S:
        return f"The recording is {seconds:.1f} s long; at least {MIN_SPEECH_S:.0f} s of speech is needed."
    wav = to_16k(x, rate)
    stats = speech_stats(wav)
    if stats.level_dbfs < SILENT_DBFS:
        return "The recording is silent."
    if stats.speech_s < MIN_SPEECH_SHARE * stats.active_s or stats.gliding_pitch < MIN_GLIDING_PITCH:
        return "The recording does not sound like speech (music, tones or noise?); record one person talking."
    if stats.speech_s < MIN_SPEECH_S:
        return (
            f"The recording holds only {stats.speech_s:.1f} s of speech; at least {MIN_SPEECH_S:.0f} s is needed "
            "(pauses do not count)."
        )
    cosine, share = speakers_apart(speech(wav, RATE))
    if cosine < SPEAKERS_APART and share >= MIN_GROUP_SHARE:
        return "The recording seems to hold more than one voice; use a recording of one speaker only."
    return None
