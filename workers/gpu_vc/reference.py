"""What the voice changer needs from the TTS side: each target voice speaking a fixed text.

A target's profile (``profiles``) is measured from the studio voice itself speaking these
phonetically varied sentences (~25 s). The voice changer has no TTS engine: the TTS worker, where
the voices live, renders them and puts them in the object store under ``reference_key(voice)``
(``workers/gpu_tts/vc_references.py``). A missing one is asked for by starting the
``PublishVcReference`` workflow on ``REFERENCE_QUEUE``, which the TTS worker serves; its id is
per voice and version, so concurrent conversions share one render. This module is the contract
between the two workers and imports nothing heavy, so each side can read it without the other.
"""

import io
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
from temporalio import workflow
from temporalio.common import RetryPolicy

PROFILE_TEXTS = (
    "The rainbow is a division of white light into many beautiful colors.",
    "These take the shape of a long round arch, with its path high above.",
    "When the sunlight strikes raindrops in the air, they act as a prism and form a rainbow.",
    "Throughout the centuries people have explained the rainbow in various ways.",
    "Please call Stella and ask her to bring these things with her from the store.",
    "Six spoons of fresh snow peas, five thick slabs of blue cheese, and a snack for her brother.",
    "We also need a small plastic snake and a big toy frog for the kids.",
    "She can scoop these things into three red bags, and we will go meet her on Wednesday.",
)
# Bump when the texts or the profile analysis change: references are re-rendered and profiles rebuilt.
PROFILE_VERSION = 3
REFERENCE_RATE = 24_000


def reference_key(voice: str) -> str:
    """Object key of a voice's reference speech: an ``.npz`` of one float32 array per text
    (``arr_0`` ...) and ``rate``."""
    return f"vc-references/v{PROFILE_VERSION}/{voice}.npz"


def pack(renders: list[np.ndarray], rate: int) -> bytes:
    """One voice's reference speech as stored: each text's samples kept apart (they are analysed apart)."""
    buffer = io.BytesIO()
    np.savez(buffer, *(np.asarray(r, np.float32) for r in renders), rate=np.int64(rate))
    return buffer.getvalue()


def unpack(data: bytes) -> tuple[list[np.ndarray], int]:
    with np.load(io.BytesIO(data)) as stored:
        renders = [stored[f"arr_{i}"] for i in range(len(stored.files) - 1)]
        return renders, int(stored["rate"])


REFERENCE_QUEUE = "vc-references"  # served by the TTS worker (workers/gpu_tts/vc_references.py)
PUBLISH_ACTIVITY = "publish_vc_reference"


@dataclass
class ReferenceRequest:
    """Which voice to render: a stock id, or a user's voice id with its recipe
    (``studio.voices.VoiceRecipe.as_settings()``, as the site put it in the conversion's settings)."""

    voice: str
    recipe: dict | None = None


def publish_workflow_id(voice: str) -> str:
    return f"vc-reference-v{PROFILE_VERSION}-{voice}"


@workflow.defn(name="PublishVcReference", sandboxed=False)  # one activity call, nothing to sandbox
class PublishVcReference:
    """Puts a voice's reference speech in the object store (a no-op when it is there)."""

    @workflow.run
    async def run(self, req: ReferenceRequest) -> None:
        await workflow.execute_activity(
            PUBLISH_ACTIVITY, req, start_to_close_timeout=timedelta(minutes=10),
            retry_policy=RetryPolicy(initial_interval=timedelta(seconds=2), maximum_attempts=3),
        )  # fmt: skip
