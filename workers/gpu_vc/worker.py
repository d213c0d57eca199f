"""Voice-conversion GPU worker: the WORLD converter on the GPU-worker skeleton (``workers.gpu_worker``).

Needs only the Temporal address and the object store (its targets' reference speech comes from the
TTS worker, through them). ``python -m workers.gpu_vc.worker``
"""

import asyncio

from studio.kinds import ClipKind
from studio.settings import get_settings
from workers.gpu_vc.activities import VcActivities
from workers.gpu_vc.engine import VoiceConverter, vc_converter
from workers.gpu_worker import serve_inference


def concurrent_conversions(converter: VoiceConverter) -> int:
    """Conversions at once: the setting, else 4 on CUDA (F0 and D4C run on CPU threads meanwhile), else 2."""
    return get_settings().vc_max_concurrent or (4 if converter.device.type == "cuda" else 2)


def main() -> None:
    asyncio.run(serve_inference(ClipKind.VOICE_CONVERSION, vc_converter, VcActivities, concurrent_conversions))


if __name__ == "__main__":
    main()
