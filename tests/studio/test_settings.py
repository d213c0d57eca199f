"""The secret key: random per installation, kept under var/, the published old default refused."""

import stat
from pathlib import Path

import pytest
from pydantic import ValidationError

from studio.settings import PUBLISHED_SECRETS, Settings


def test_an_unset_secret_is_made_once_and_kept_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STUDIO_SECRET_KEY", "")
    first = Settings(var_dir=tmp_path / "a").secret_key
    assert len(first) >= 32 and first == Settings(var_dir=tmp_path / "a").secret_key  # every process reads it
    assert stat.S_IMODE((tmp_path / "a" / "secret_key").stat().st_mode) == 0o600
    assert Settings(var_dir=tmp_path / "b").secret_key != first  # another installation, another key


@pytest.mark.parametrize("published", sorted(PUBLISHED_SECRETS))
def test_the_published_default_is_refused(published: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STUDIO_SECRET_KEY", published)
    with pytest.raises(ValidationError, match="published default"):
        Settings()


def test_a_short_secret_is_refused_behind_https(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STUDIO_SECRET_KEY", "too-short")
    assert Settings(public_url="http://127.0.0.1:8000").secret_key == "too-short"  # a dev machine may
    with pytest.raises(ValidationError, match="at least 32"):
        Settings(public_url="https://studio.example")
