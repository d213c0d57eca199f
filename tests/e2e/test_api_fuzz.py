"""Schemathesis fuzzes every route of the served OpenAPI document: nothing may answer 5xx.

The key belongs to a user with no credits, so generation requests that pass validation stop at
402 instead of queueing real work.
"""

import asyncio
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from sqlalchemy import update

from studio.db import make_engine
from studio.models import User
from tests.e2e.conftest import Stack
from tests.site import create_key, sign_up

pytestmark = pytest.mark.e2e


def test_no_route_answers_5xx(stack: Stack, tmp_path: Path) -> None:
    async def make_key() -> str:
        async with httpx.AsyncClient(base_url=stack.site_url) as site:
            await sign_up(site, email="fuzz@example.com")
            return await create_key(site, "fuzz")

    key = asyncio.run(make_key())
    engine = make_engine(stack.env["STUDIO_DATABASE_URL"])
    with engine.begin() as db:
        db.execute(update(User).where(User.email == "fuzz@example.com").values(credits=0))
    engine.dispose()

    schemathesis = Path(sys.executable).parent / "schemathesis"
    result = subprocess.run(
        [
            str(schemathesis), "run", f"{stack.site_url}/openapi.json",
            "--checks", "not_a_server_error", "--max-examples", "25", "--generation-deterministic",
            "-H", f"xi-api-key: {key}", "--request-timeout", "30", "--workers", "1",
            "--report", "junit", "--report-dir", str(tmp_path),
        ],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
