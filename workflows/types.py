"""Data passed between the site, the workflow and its activities (plain dataclasses, JSON on the wire)."""

from dataclasses import dataclass, field

from studio.storage import ClipObjects


@dataclass
class GenerateRequest:
    clip_id: str
    user_id: str
    kind: str  # a studio.models.ClipKind value
    text: str
    voice: str
    settings: dict = field(default_factory=dict)  # kind-specific, e.g. {"speed": 1.0}
    objects: ClipObjects | None = None  # where the clip's audio goes; set by the site (studio.storage)

    @property
    def clip_objects(self) -> ClipObjects:
        """The request's object keys (an older request without them gets the same scheme's keys)."""
        return self.objects or ClipObjects.for_kind(self.kind, self.clip_id, self.settings)


@dataclass
class Artifact:
    """A file a GPU worker holds in its spool, and the object key it should be stored under."""

    key: str
    filename: str


@dataclass
class InferenceResult:
    worker_queue: str  # the producing worker's own queue: the upload must run there
    artifacts: list[Artifact]
    duration_seconds: float
    # What the worker learnt that the user should see (a sound effect's interpretation); merged
    # into the clip's settings at commit.
    details: dict = field(default_factory=dict)


@dataclass
class UploadRequest:
    clip_id: str
    artifacts: list[Artifact]


@dataclass
class CommitRequest:
    clip_id: str
    object_key: str
    duration_seconds: float
    details: dict = field(default_factory=dict)  # InferenceResult.details


@dataclass
class RefundRequest:
    clip_id: str
    reason: str
    cancelled: bool = False


# The workflow's progress signal, named here so GPU workers send it without importing the workflow
# (and with it the orchestration's database code).
REPORT_PROGRESS = "report_progress"


@dataclass
class Progress:
    done: int
    total: int
    detail: str = ""  # what the user sees, when "chunk i of n" would not say it (e.g. a voice fit's similarity)


@dataclass
class GenerationStatus:
    """What the workflow query returns: where the clip is and how far along."""

    stage: str  # a studio.stages.Stage value
    progress: float  # 0..1
    detail: str = ""
    error: str | None = None


# Error types raised by activities; the workflow never retries these.
BAD_INPUT = "BadInput"
INSUFFICIENT_CREDITS = "InsufficientCredits"
ARTIFACT_LOST = "ArtifactLost"
GENERATION_FAILED = "GenerationFailed"  # the workflow's own failure type when no finer one applies


@dataclass
class ReconcileRequest:
    """What the reconciler looks at: unfinished clips older than ``min_age_seconds`` (at most ``limit``
    per run), optionally only one user's or only the given clips."""

    min_age_seconds: float = 60.0
    limit: int = 200
    user_id: str | None = None
    clip_ids: list[str] | None = None


@dataclass
class ReconcileReport:
    checked: int = 0
    settled: list[str] = field(default_factory=list)  # clip ids marked failed (any hold refunded)
    errors: int = 0  # clips that could not be checked or settled this time (retried next run)


# A speech session (the ElevenLabs websocket, ``workflows.speech_session``): one clip whose text
# arrives in segments while it plays. Its TTS activities have their own queue, served by every TTS
# worker beside ``gpu-tts``, so a live segment never waits for a slot behind queued whole clips.
SESSION_QUEUE = "gpu-tts-session"


@dataclass
class SessionRequest:
    """A session's clip (recorded and admitted by the site) and how long it may go unheard from."""

    clip_id: str
    user_id: str
    voice: str
    settings: dict = field(default_factory=dict)  # speed, a user's voice recipe, {"session": True}
    objects: ClipObjects | None = None
    idle_seconds: float = 20.0  # no segment, keep-alive or end for this long: the input has ended
    max_chars: int = 5_000  # text beyond this is not accepted (a session is priced as one clip)


@dataclass
class SessionSegment:
    """Text to speak next; ``seq`` counts from 0, so a repeated signal is recognised and dropped."""

    seq: int
    text: str


@dataclass
class SegmentRequest:
    clip_id: str
    user_id: str
    voice: str
    settings: dict
    objects: ClipObjects
    text: str
    first_part: int  # its parts are stream parts first_part, first_part + 1, ...
    lead_seconds: float  # silence before its first part (how the previous segment ended)


@dataclass
class SegmentResult:
    parts: int
    duration_seconds: float
    pause_after: float  # the silence the next segment should start with


@dataclass
class AssembleRequest:
    clip_id: str
    objects: ClipObjects
    parts: int
    text: str  # the session's whole text, as received


@dataclass
class AssembleResult:
    object_key: str
    duration_seconds: float


@dataclass
class SessionText:
    clip_id: str
    text: str


@dataclass
class SessionProgress:
    """What the websocket asks the session while streaming: what is spoken and stored so far."""

    segments: int  # received (signals accepted)
    spoken: int  # synthesized (or skipped as unspeakable)
    parts: int  # stream parts published
    ended: bool  # no more input will be taken
    error: str | None = None  # the session failed: why


# The session's TTS activities, by name (the workflow calls them; the TTS worker registers them).
SPEAK_SEGMENT = "speak_session_segment"
ASSEMBLE_SESSION = "assemble_session"
DROP_SESSION_PARTS = "drop_session_parts"
