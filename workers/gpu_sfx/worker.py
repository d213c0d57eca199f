"""Sound-effect worker: its engine on the GPU-worker skeleton (``workers.gpu_worker``).

Needs only the Temporal address and the object store. ``python -m workers.gpu_sfx.worker``
"""

import asyncio

from studio.kinds import ClipKind
from workers.gpu_sfx.activities import SfxActivities
from workers.gpu_sfx.engine import sfx_engine
from workers.gpu_worker import serve_inference


def main() -> None:
    asyncio.run(serve_inference(ClipKind.SOUND_EFFECT, sfx_engine, SfxActivities))


if __name__ == "__main__":
    main()
