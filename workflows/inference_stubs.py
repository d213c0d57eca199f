"""Typed stand-ins for the inference activities, which run in the GPU workers' processes.

``GenerateAudio`` calls these so its calls are typed without importing the engines (as in
temporalio/samples-python's worker_specific_task_queues). There is one per clip kind, made from
the kind's declaration in ``studio.kinds``; each GPU worker registers the real activity under the
same name. Nothing here ever runs.
"""

from collections.abc import Awaitable, Callable

from temporalio import activity

from studio.kinds import KINDS, ClipKind, Kind
from workflows.types import GenerateRequest, InferenceResult

InferenceActivity = Callable[[GenerateRequest], Awaitable[InferenceResult]]


def _stub(kind: Kind) -> InferenceActivity:
    async def inference(req: GenerateRequest) -> InferenceResult:
        raise NotImplementedError(f"{kind.activity} runs on a worker polling {kind.task_queue!r}")

    inference.__name__ = inference.__qualname__ = kind.activity
    return activity.defn(name=kind.activity)(inference)


INFERENCE: dict[ClipKind, InferenceActivity] = {name: _stub(kind) for name, kind in KINDS.items()}
