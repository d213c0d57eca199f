"""Where a clip is on its way, in one vocabulary for the workflow's live query and the database.

The database keeps a coarse ``ClipStatus``; the workflow reports a finer ``Stage`` while it runs.
Once a clip is finished its status says the same thing (``stage_of_status``). Pages and CSS use
the values as they are.
"""

import enum


class ClipStatus(enum.StrEnum):
    """A clip row's status (``clips.status``)."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        return self in (ClipStatus.SUCCEEDED, ClipStatus.FAILED, ClipStatus.CANCELLED)


class Stage(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"  # in progress, but the workflow could not be asked how far
    RESERVING = "reserving"
    SYNTHESIZING = "synthesizing"  # inference, one label per clip kind (see studio.kinds)
    CONVERTING = "converting"
    GENERATING = "generating"
    FITTING = "fitting"  # a voice design: fitting a voice to a recording (or rendering a blend's preview)
    UPLOADING = "uploading"
    COMMITTING = "committing"
    REFUNDING = "refunding"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def terminal(self) -> bool:
        return self in TERMINAL_STAGES


TERMINAL_STAGES = frozenset({Stage.DONE, Stage.FAILED, Stage.CANCELLED})

_STATUS_STAGES = {
    ClipStatus.QUEUED: Stage.QUEUED,
    ClipStatus.RUNNING: Stage.RUNNING,
    ClipStatus.SUCCEEDED: Stage.DONE,
    ClipStatus.FAILED: Stage.FAILED,
    ClipStatus.CANCELLED: Stage.CANCELLED,
}


def stage_of_status(status: ClipStatus) -> Stage:
    """The stage a clip's database status stands for (used when the workflow cannot be asked)."""
    return _STATUS_STAGES[status]
