"""The upload step: move a GPU worker's spooled audio into the object store.

Registered by every GPU worker on its own worker-local queue (``workers.gpu_worker``), so it runs
on the machine that holds the file. Idempotent: a retry after a successful put finds the object and succeeds.
"""

import time
from pathlib import Path

from temporalio import activity
from temporalio.exceptions import ApplicationError

from studio.storage import ObjectStore
from workflows.types import ARTIFACT_LOST, UploadRequest

ORPHAN_AGE_SECONDS = 6 * 3600


def clean_spool(spool_dir: Path, max_age: float = ORPHAN_AGE_SECONDS) -> int:
    """Delete spooled files no workflow will upload any more (their run failed or moved on).

    Called when a worker starts: its previous process's local queue is gone, so nothing can
    claim those files, and a retry re-synthesises rather than reading them.
    """
    if not spool_dir.is_dir():
        return 0
    cutoff, removed = time.time() - max_age, 0
    for path in spool_dir.iterdir():
        if path.is_file() and path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
            removed += 1
    return removed


class UploadActivities:
    def __init__(self, store: ObjectStore, spool_dir: Path) -> None:
        self.store, self.spool_dir = store, spool_dir
        clean_spool(spool_dir)

    @activity.defn(name="upload_audio")
    def upload_audio(self, req: UploadRequest) -> None:
        for artifact in req.artifacts:
            path = self.spool_dir / artifact.filename
            if path.exists():
                self.store.put_file(artifact.key, path)
            elif not self.store.exists(artifact.key):
                raise ApplicationError(
                    f"audio for clip {req.clip_id} is gone from this worker", type=ARTIFACT_LOST, non_retryable=True
                )
        for artifact in req.artifacts:  # only once every file is safely stored
            (self.spool_dir / artifact.filename).unlink(missing_ok=True)
