"""In-process site tests: the real app over ASGI, a real Temporal dev server, both databases."""

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
