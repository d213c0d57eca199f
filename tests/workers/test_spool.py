"""Spooled audio left behind by failed runs is cleaned when a worker starts."""

import os
import time
from pathlib import Path

from activities.upload import clean_spool


def test_only_old_files_are_removed(tmp_path: Path) -> None:
    old, fresh = tmp_path / "old.wav", tmp_path / "fresh.wav"
    old.write_bytes(b"x")
    fresh.write_bytes(b"y")
    past = time.time() - 7 * 3600
    os.utime(old, (past, past))
    assert clean_spool(tmp_path) == 1
    assert not old.exists() and fresh.exists()
    assert clean_spool(tmp_path / "missing") == 0
