"""Orchestration worker: runs the GenerateAudio workflow and its database activities, and the
ReconcileClips workflow, whose Schedule it creates (or updates) when it starts.

``python -m activities.worker``
"""

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor

from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities import credits, reconcile, speech_session
from temporal import queues
from temporal.client import connect
from temporal.worker_runtime import run_until_signalled
from workflows.generate_audio import GenerateAudio
from workflows.reconcile import ReconcileClips
from workflows.speech_session import SpeechSession

log = logging.getLogger(__name__)

# The workflow sandbox imports a workflow's modules anew for every run unless they are passed
# through. Ours pass their imports through already (``workflow.unsafe.imports_passed_through``);
# passing every module through spares each run the re-import of the workflow modules themselves
# (a few ms of the first workflow task of every run on a 2-core CPU) and keeps the sandbox's guard: workflow code
# still cannot read the clock, draw random numbers or do I/O. The replay tests run the workflows in
# the default sandbox.
WORKFLOW_RUNNER = SandboxedWorkflowRunner(restrictions=SandboxRestrictions.default.with_passthrough_all_modules())


def build_worker(client: Client, executor: ThreadPoolExecutor, task_queue: str = queues.ORCHESTRATION) -> Worker:
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[GenerateAudio, ReconcileClips, SpeechSession],
        activities=[*credits.ALL, *reconcile.ALL, *speech_session.ALL],
        activity_executor=executor,
        max_concurrent_activities=16,
        workflow_runner=WORKFLOW_RUNNER,
    )


async def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s orchestration %(levelname)s %(message)s")
    client = await connect()
    try:  # the reconciler settles clips whose workflow was terminated or lost (workflows/reconcile.py)
        await reconcile.ensure_reconcile_schedule(client)
    except Exception:
        log.exception("could not create the reconciler's schedule; stuck clips will not be settled")
    with ThreadPoolExecutor(max_workers=16) as executor:
        await run_until_signalled(build_worker(client, executor))


if __name__ == "__main__":
    asyncio.run(main())
