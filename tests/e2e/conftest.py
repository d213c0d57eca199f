"""The whole studio as separate processes, as scripts/start runs it, on PostgreSQL and SeaweedFS S3."""

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from temporal.dev_server import start_dev_server, wait_for_port
from tests import services
from tests.conftest import s3_env
from tests.site import create_key, sign_up


@dataclass
class Stack:
    site_url: str
    temporal_address: str
    env: dict[str, str]
    commands: dict[str, list[str]]
    processes: dict[str, subprocess.Popen]
    logs: Path

    def start(self, name: str) -> None:
        out = (self.logs / f"{name}.log").open("ab")
        self.processes[name] = subprocess.Popen(self.commands[name], env=self.env, stdout=out, stderr=subprocess.STDOUT)

    def crash(self, name: str) -> None:
        """SIGKILL a process, as a power cut or OOM kill would: no cleanup, no goodbye to Temporal."""
        self.processes[name].kill()
        self.processes[name].wait()


@pytest.fixture(scope="session")
def stack(pg_url: str, seaweedfs: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    var = tmp_path_factory.mktemp("e2e-var")
    t_port, ui_port, site_port = services.free_port(), services.free_port(), services.free_port()
    env = os.environ | s3_env(seaweedfs, "e2e-audio") | {
        "STUDIO_DATABASE_URL": pg_url,
        "STUDIO_VAR_DIR": str(var),
        # The model files are built once under the checkout's var/; the worker reads them from there.
        "STUDIO_TTS_MODELS_DIR": str(Path(__file__).resolve().parents[2] / "var" / "models"),
        "STUDIO_VC_PROFILE_CACHE": str(Path(__file__).resolve().parents[2] / "var" / "vc_profiles"),
        "STUDIO_TEMPORAL_ADDRESS": f"127.0.0.1:{t_port}",
        "STUDIO_TEMPORAL_UI_URL": f"http://127.0.0.1:{ui_port}",
        "STUDIO_PUBLIC_URL": f"http://127.0.0.1:{site_port}",
        "STUDIO_SECRET_KEY": "e2e-secret",
        "STUDIO_OPERATOR_EMAILS": "browser-operator@example.com,tts-operator@example.com",  # see Temporal links
        "STUDIO_RATE_LIMIT_PER_MINUTE": "60",  # the SDK tests make many calls as one user
        # A voice fit on 2 CPU cores: a token budget (the fit's path end to end, not its quality).
        "STUDIO_VOICE_FIT_STEPS": "2",
        "STUDIO_VOICE_FIT_PROBE_SENTENCES": "1",
        "STUDIO_VOICE_FIT_BASIS": "af_heart,af_bella,am_adam,am_michael,bf_emma,bm_george",  # 6 of 28: fast on a CPU
    }  # fmt: skip
    temporal = start_dev_server(None, port=t_port, ui_port=ui_port)
    logs = var / "logs"
    logs.mkdir()
    commands = {
        "orchestration": [sys.executable, "-m", "activities.worker"],
        "gpu_tts": [sys.executable, "-m", "workers.gpu_tts.worker"],
        "gpu_vc": [sys.executable, "-m", "workers.gpu_vc.worker"],
        "gpu_sfx": [sys.executable, "-m", "workers.gpu_sfx.worker"],
        "site": [sys.executable, "-m", "uvicorn", "api.main:app", "--host", "127.0.0.1", "--port", str(site_port)],
    }
    stack = Stack(f"http://127.0.0.1:{site_port}", f"127.0.0.1:{t_port}", env, commands, {}, logs)
    try:
        for name in commands:
            stack.start(name)
        wait_for_port("127.0.0.1", site_port, timeout=60)
        yield stack
    finally:
        for proc in reversed(stack.processes.values()):
            services.stop(proc)
        services.stop(temporal)
        for log in sorted(logs.glob("*.log")):
            sys.stderr.write(f"---- {log.name} (tail) ----\n{log.read_text(errors='replace')[-3000:]}\n")


@pytest.fixture(scope="module")
def api_key(stack: Stack) -> str:
    """A new user's API key, one per test module (for the official SDKs)."""

    async def make() -> str:
        async with httpx.AsyncClient(base_url=stack.site_url) as site:
            await sign_up(site)
            return await create_key(site, "e2e")

    return asyncio.run(make())
