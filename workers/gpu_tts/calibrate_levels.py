"""Measure every stock voice's speech level on the calibration text and write ``voice_levels.json``
(the table ``mastering.VoiceLevels`` reads, so no request waits for a measurement):

    python -m workers.gpu_tts.calibrate_levels

Run it again when the model, the voices or the calibration text change. Levels agree across CPUs
to a few hundredths of a dB (the int8 ONNX engine is deterministic per platform up to rounding).
"""

import json
import sys

from workers.gpu_tts.engine import SAMPLE_RATE, tts_engine
from workers.gpu_tts.mastering import CALIBRATION_TEXT, STOCK_LEVELS, speech_level_db


def main() -> int:
    engine = tts_engine()
    levels = {}
    for voice in sorted(engine.voices):
        if voice not in engine.packs.stock or not _speakable(engine, voice):
            continue
        audio = engine.synthesize_raw(CALIBRATION_TEXT, voice)
        levels[voice] = round(speech_level_db(audio, SAMPLE_RATE), 2)
        print(f"{voice:14s} {levels[voice]:7.2f} dBFS", flush=True)
    document = {"text": CALIBRATION_TEXT, "measured_with": engine.name, "levels_db": levels}
    STOCK_LEVELS.write_text(json.dumps(document, indent=1) + "\n")
    print(f"wrote {STOCK_LEVELS} ({len(levels)} voices)")
    return 0


def _speakable(engine, voice: str) -> bool:  # noqa: ANN001
    try:
        engine.speaking_voice(voice)
    except (KeyError, ValueError):
        return False
    return True


if __name__ == "__main__":
    sys.exit(main())
