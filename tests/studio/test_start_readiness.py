"""scripts/start waits for the site while its process is alive, and only gives up when it dies or the budget passes."""

import socket
import subprocess
import sys
import time

from scripts.studio import _wait_until_listening


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _listen_after(delay: float, port: int) -> subprocess.Popen:
    code = (
        "import socket, time\n"
        f"time.sleep({delay})\n"
        "s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
        f"s.bind(('127.0.0.1', {port})); s.listen(); time.sleep(60)\n"
    )
    return subprocess.Popen([sys.executable, "-c", code])


def test_a_slow_site_is_waited_for_with_progress(capsys) -> None:  # noqa: ANN001
    port = _free_port()
    proc = _listen_after(11, port)  # slower than the first progress note
    try:
        assert _wait_until_listening(proc, "127.0.0.1", port, budget_s=60)
    finally:
        proc.kill()
        proc.wait()
    assert "still starting the site" in capsys.readouterr().out


def test_a_dead_site_fails_at_once() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    start = time.monotonic()
    assert not _wait_until_listening(proc, "127.0.0.1", _free_port(), budget_s=60)
    assert time.monotonic() - start < 10


def test_the_budget_bounds_the_wait(capsys) -> None:  # noqa: ANN001
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        assert not _wait_until_listening(proc, "127.0.0.1", _free_port(), budget_s=1)
    finally:
        proc.kill()
        proc.wait()
    assert "STUDIO_START_TIMEOUT_SECONDS" in capsys.readouterr().err
