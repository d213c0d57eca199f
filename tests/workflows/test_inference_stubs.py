"""The workflow's typed stubs and the GPU workers' real activities agree: same name, same types."""

import inspect
import typing

import pytest
from temporalio.activity import _Definition

from studio.kinds import KINDS
from studio.models import ClipKind
from workers.gpu_sfx.activities import SfxActivities
from workers.gpu_tts.activities import TtsActivities
from workers.gpu_vc.activities import VcActivities
from workflows.inference_stubs import INFERENCE

REAL = {
    ClipKind.TTS: TtsActivities.synthesize_speech,
    ClipKind.VOICE_CONVERSION: VcActivities.convert_voice,
    ClipKind.SOUND_EFFECT: SfxActivities.generate_sound_effect,
    ClipKind.VOICE_DESIGN: TtsActivities.design_voice,
}


def types_of(fn: typing.Callable) -> tuple[list, typing.Any]:
    hints = typing.get_type_hints(fn)
    params = [hints[name] for name in inspect.signature(fn).parameters if name != "self"]
    return params, hints["return"]


@pytest.mark.parametrize("kind", list(ClipKind))
def test_every_kind_has_a_stub_matching_its_worker_activity(kind: ClipKind) -> None:
    stub, real = _Definition.must_from_callable(INFERENCE[kind]), _Definition.must_from_callable(REAL[kind])
    assert stub.name == real.name == KINDS[kind].activity
    assert types_of(INFERENCE[kind]) == types_of(REAL[kind])
