"""Runs every studio process on one machine and stops them all on Ctrl-C.

Started by ``scripts/start``; each child is the same command you would run on its own machine.
"""

import os
import signal
import subprocess
import sys
import time
from urllib.parse import urlsplit

from studio.migrate import upgrade
from studio.settings import get_settings
from temporal.dev_server import start_dev_server, wait_for_port

DEFAULT_UI_PORT = 8233


def _wait_until_listening(proc: subprocess.Popen, host: str, port: int, budget_s: float) -> bool:
    """True once the site listens; False (with the reason) if it exits or the budget passes."""
    try:
        wait_for_port(host, port, budget_s, proc, what="the site")
        return True
    except RuntimeError as exc:
        print(exc, file=sys.stderr)
    except TimeoutError as exc:
        print(f"{exc}; set STUDIO_START_TIMEOUT_SECONDS to wait longer", file=sys.stderr)
    return False


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main() -> int:
    signal.signal(signal.SIGTERM, _interrupt)  # `kill` stops the studio as Ctrl-C does
    signal.signal(signal.SIGINT, _interrupt)  # even when started from a shell that ignores SIGINT
    settings = get_settings()
    host, port = os.environ.get("STUDIO_HOST", "127.0.0.1"), int(os.environ.get("STUDIO_PORT", "8000"))
    t_host, t_port = settings.temporal_address.rsplit(":", 1)
    # The UI's own port, from its URL; a URL without one (a proxy in front, docs/operators.md) leaves
    # the dev UI on Temporal's default port behind it.
    ui_port = urlsplit(settings.temporal_ui_url).port or DEFAULT_UI_PORT
    children: list[subprocess.Popen] = []
    try:
        print("==> Temporal dev server", flush=True)
        children.append(
            start_dev_server(
                settings.var_dir / "temporal.db",
                port=int(t_port),
                ui_port=ui_port,
                ip=t_host,
                log_file=settings.var_dir / "temporal.log",
                timeout=settings.start_timeout_seconds,
            )  # fmt: skip
        )
        print("==> database migrations", flush=True)
        upgrade()
        py = sys.executable
        for cmd in (
            [py, "-m", "activities.worker"],
            [py, "-m", "workers.gpu_tts.worker"],
            [py, "-m", "workers.gpu_vc.worker"],
            [py, "-m", "workers.gpu_sfx.worker"],
            [py, "-m", "uvicorn", "api.main:app", "--host", host, "--port", str(port), "--log-level", "warning"],
        ):
            children.append(subprocess.Popen(cmd))
        print("==> waiting for the site", flush=True)
        if not _wait_until_listening(children[-1], host, port, settings.start_timeout_seconds):
            return 1
        print(f"\n  Studio site:  {settings.public_url}\n  Temporal UI:  {settings.temporal_ui_url}\n", flush=True)
        print("Press Ctrl-C to stop.", flush=True)
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
        print("a studio process exited; stopping the rest", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        for child in reversed(children):
            if child.poll() is None:
                child.terminate()  # every child shuts down gracefully on SIGTERM
        deadline = time.monotonic() + 10
        for child in children:
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
        print("studio stopped", flush=True)


if __name__ == "__main__":
    sys.exit(main())
