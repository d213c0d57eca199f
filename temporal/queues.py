"""Task-queue names. The kind of a clip picks the inference queue."""

import os
import socket
import uuid

ORCHESTRATION = "studio"  # the workflow and its database activities
GPU_TTS = "gpu-tts"
GPU_VC = "gpu-vc"
GPU_SFX = "gpu-sfx"


def worker_local_queue(base: str) -> str:
    """A queue only this worker process polls, so the upload runs where the audio file is."""
    return f"{base}@{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
