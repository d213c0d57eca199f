"""Session-wide real services and a helper to point the studio's settings at them."""

import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

from studio import db, storage
from studio.migrate import upgrade
from studio.models import Clip, ClipKind, ClipStatus, User, workflow_id_for
from studio.settings import get_settings
from temporal.dev_server import start_dev_server, venv_binary
from tests import services

API_TEST_NAMESPACE = "api-tests"


def reset_caches() -> None:
    """Settings, engine and store are cached per process; tests that change env must reset them."""
    if db.get_engine.cache_info().currsize:
        db.get_engine().dispose()
    for cached in (get_settings, db.get_engine, db.get_sessionmaker, storage.get_store):
        cached.cache_clear()


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'studio.db'}"
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def pg_admin_url() -> Iterator[str]:
    """The local PostgreSQL server if one answers, else a throwaway cluster for this run."""
    if services.pg_server_answers():
        yield services.PG_ADMIN_URL
        return
    workdir = Path(tempfile.mkdtemp(prefix="studio-pg-"))  # outside pytest's root-only tmp dirs
    stop_cmd, url = services.start_throwaway_postgres(workdir)
    yield url
    subprocess.run(stop_cmd, check=False, capture_output=True)
    shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_url(pg_admin_url: str) -> Iterator[str]:
    url, name = services.create_pg_database(pg_admin_url)
    upgrade(url)
    yield url
    reset_caches()
    services.drop_pg_database(pg_admin_url, name)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest) -> str:
    return request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url")


@pytest.fixture
def studio_env(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Point the studio at the parametrised database and a local store in tmp_path."""
    monkeypatch.setenv("STUDIO_DATABASE_URL", db_url)
    monkeypatch.setenv("STUDIO_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("STUDIO_STORAGE_BACKEND", "local")
    reset_caches()
    yield
    reset_caches()


def make_user(credits: int = 1000) -> User:
    with db.session_scope() as session:
        user = User(email=f"{uuid.uuid4().hex[:12]}@example.com", password_hash="x", credits=credits)
        session.add(user)
    return user


def make_clip(user: User, cost: int = 50, text: str = "Hello there.") -> Clip:
    with db.session_scope() as session:
        clip_id = uuid.uuid4()
        clip = Clip(
            id=clip_id, user_id=user.id, kind=ClipKind.TTS, text=text, voice="af_heart", settings={"speed": 1.0},
            status=ClipStatus.QUEUED, cost=cost, workflow_id=workflow_id_for(clip_id),
        )  # fmt: skip
        session.add(clip)
    return clip


@pytest.fixture(scope="session")
async def time_skipping_env() -> Iterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_time_skipping(test_server_existing_path=venv_binary("temporal-test-server"))
    yield env
    await env.shutdown()


@pytest.fixture(scope="session")
def temporal_dev() -> Iterator[str]:
    """A real Temporal dev server (in memory) with a namespace for in-process API tests."""
    port, ui_port = services.free_port(), services.free_port()
    proc = start_dev_server(None, port=port, ui_port=ui_port, extra_args=["--namespace", API_TEST_NAMESPACE])
    yield f"127.0.0.1:{port}"
    services.stop(proc)


@pytest.fixture(scope="session")
def seaweedfs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    proc, endpoint = services.start_seaweedfs(tmp_path_factory.mktemp("s3"))
    yield endpoint
    services.stop(proc)


def s3_env(endpoint: str, bucket: str) -> dict[str, str]:
    return {
        "STUDIO_STORAGE_BACKEND": "s3",
        "STUDIO_S3_ENDPOINT_URL": endpoint,
        "STUDIO_S3_BUCKET": bucket,
        "STUDIO_S3_ACCESS_KEY": services.S3_ACCESS,
        "STUDIO_S3_SECRET_KEY": services.S3_SECRET,
    }


os.environ.setdefault("STUDIO_SECRET_KEY", "test-secret-for-the-suite-only-0123456789")
