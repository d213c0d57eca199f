"""In-process site tests: the real app over ASGI, a real Temporal dev server, both databases."""

import re
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.conftest import API_TEST_NAMESPACE, reset_caches


@pytest.fixture
async def site(
    studio_env: None, temporal_dev: str, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[httpx.AsyncClient]:
    monkeypatch.setenv("STUDIO_TEMPORAL_ADDRESS", temporal_dev)
    monkeypatch.setenv("STUDIO_TEMPORAL_NAMESPACE", API_TEST_NAMESPACE)
    reset_caches()
    from api.main import create_app

    transport = httpx.ASGITransport(app=create_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "page has no CSRF token"
    return match.group(1)


async def sign_up(client: httpx.AsyncClient, email: str | None = None, password: str = "correct horse") -> str:
    """Create an account through the form; returns the session's CSRF token."""
    token = csrf_from((await client.get("/signup")).text)
    email = email or f"{uuid.uuid4().hex[:10]}@example.com"
    resp = await client.post("/signup", data={"email": email, "password": password, "csrf_token": token})
    assert resp.status_code == 303 and resp.headers["location"] == "/tts", resp.text
    return token
