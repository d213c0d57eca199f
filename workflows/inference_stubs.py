"""Typed stand-ins for the inference activities, which run in the GPU workers' processes.

``GenerateAudio`` calls these so its calls are typed without importing the engines (as in
temporalio/samples-python's worker_specific_task_queues); each GPU worker registers the real
activity under the same name, taken from the clip kind's declaration in ``studio.kinds``.
Nothing here ever runs.
"""

from temporalio import activity

from studio.kinds import KINDS
from studio.models import ClipKind
from workflows.types import GenerateRequest, InferenceResult


@activity.defn(name=KINDS[ClipKind.TTS].activity)
async def synthesize_speech(req: GenerateRequest) -> InferenceResult:
    raise NotImplementedError("runs on a TTS worker (workers.gpu_tts)")


@activity.defn(name=KINDS[ClipKind.VOICE_CONVERSION].activity)
async def convert_voice(req: GenerateRequest) -> InferenceResult:
    raise NotImplementedError("runs on a voice-changer worker (workers.gpu_vc)")


@activity.defn(name=KINDS[ClipKind.SOUND_EFFECT].activity)
async def generate_sound_effect(req: GenerateRequest) -> InferenceResult:
    raise NotImplementedError("runs on a sound-effect worker (workers.gpu_sfx)")


INFERENCE = {ClipKind.TTS: synthesize_speech, ClipKind.VOICE_CONVERSION: convert_voice,
             ClipKind.SOUND_EFFECT: generate_sound_effect}  # fmt: skip
