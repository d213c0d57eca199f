"""Starting generations under contention: refusals release their locks and never stall the site.

The studio used to take a write lock for the rate limit and then refuse (429/402) without rolling
back, on the event loop: a second request from the same user blocked the only loop thread on
that lock, freezing every page for every user (for good on PostgreSQL). These run many parallel
refused and admitted starts on both databases while another user browses.
"""

import asyncio
import re
import sqlite3
import uuid

import httpx
import pytest
from sqlalchemy import func, select, text, update

from studio.audio import to_wav
from studio.db import get_engine, session_scope
from studio.models import Admission, Clip, ClipStatus, User
from studio.settings import get_settings
from studio.storage import get_store
from tests.api.routers.test_clips import HTMX, clip_count, generate, user_by_email_fragment
from tests.api.routers.test_voice_changer import RATE, SPEECHLIKE, upload
from tests.site import create_key, sign_up

# A deadlock guard, not a speed limit: the frozen site needed 30 s per stalled request (SQLite)
# or never recovered (PostgreSQL); a healthy one answers all of this in well under a second.
LIVENESS_SECONDS = 60


def second_client(site: httpx.AsyncClient) -> httpx.AsyncClient:
    """Another browser on the same app (its own cookies)."""
    return httpx.AsyncClient(transport=site._transport, base_url=str(site.base_url))


def admissions(user: User) -> int:
    with session_scope() as s:
        return s.scalar(select(func.count()).select_from(Admission).where(Admission.user_id == user.id))


def at_rate_limit(user: User) -> None:
    with session_scope() as s:
        s.add_all(Admission(user_id=user.id) for _ in range(get_settings().rate_limit_per_minute))


def assert_no_transaction_left_open() -> None:
    """Every request committed or rolled back: no lock is held once the burst is over."""
    engine = get_engine()
    if engine.dialect.name == "sqlite":
        raw = sqlite3.connect(engine.url.database, timeout=0)
        try:
            raw.execute("BEGIN IMMEDIATE")  # fails at once with "database is locked" if a writer is open
            raw.rollback()
        finally:
            raw.close()
    else:
        with engine.connect() as conn:
            open_tx = conn.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND state LIKE 'idle in transaction%'"
                )
            )
        assert open_tx == 0


async def test_parallel_refusals_and_admissions_never_stall_another_users_pages(site: httpx.AsyncClient) -> None:
    async with second_client(site) as limited, second_client(site) as broke, second_client(site) as browser:
        token = await sign_up(site)
        limited_token = await sign_up(limited)
        await sign_up(broke)
        await sign_up(browser)
        eager = user_by_email_fragment((await site.get("/tts")).text)
        at_limit = user_by_email_fragment((await limited.get("/tts")).text)
        poor = user_by_email_fragment((await broke.get("/tts")).text)
        at_rate_limit(at_limit)
        key = await create_key(broke)
        with session_scope() as s:
            s.execute(update(User).where(User.id == poor.id).values(credits=0))

        async def browse() -> list[int]:
            return [(await browser.get(path)).status_code for path in ("/history", "/tts", "/account") * 3]

        async def api_start() -> httpx.Response:
            return await broke.post("/v1/text-to-speech/af_heart", json={"text": "hi"}, headers={"xi-api-key": key})

        burst = asyncio.gather(
            *(generate(site, token) for _ in range(10)),  # the limit admitted (3), the rest refused
            *(generate(limited, limited_token) for _ in range(10)),  # all refused: 429
            *(api_start() for _ in range(6)),  # all refused: 402
            browse(),
        )
        results = await asyncio.wait_for(burst, timeout=LIVENESS_SECONDS)

    limit = get_settings().rate_limit_per_minute
    eager_codes = sorted(r.status_code for r in results[:10])
    assert eager_codes == [202] * limit + [429] * (10 - limit), eager_codes
    assert {r.status_code for r in results[10:20]} == {429}
    assert {r.status_code for r in results[20:26]} == {402}
    assert results[26] == [200] * 9
    assert clip_count(eager) == limit and admissions(eager) == limit
    assert clip_count(at_limit) == 0 and clip_count(poor) == 0
    assert_no_transaction_left_open()


async def test_deleting_clips_does_not_make_room_under_the_rate_limit(site: httpx.AsyncClient) -> None:
    token = await sign_up(site)
    user = user_by_email_fragment((await site.get("/tts")).text)
    started = []
    for _ in range(get_settings().rate_limit_per_minute):
        resp = await generate(site, token)
        assert resp.status_code == 202
        started.append(re.search(r'id="clip-([0-9a-f-]+)"', resp.text).group(1))
    with session_scope() as s:  # pretend they finished, so they can be deleted
        s.execute(update(Clip).where(Clip.user_id == user.id).values(status=ClipStatus.SUCCEEDED))
    for clip_id in started:
        assert (await site.post(f"/clips/{clip_id}/delete", headers=HTMX | {"X-CSRF-Token": token})).status_code == 200
    assert clip_count(user) == 0
    resp = await generate(site, token)
    assert resp.status_code == 429 and "Retry-After" in resp.headers


async def test_an_upload_at_the_rate_limit_is_refused_before_it_is_decoded_or_stored(
    site: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = await sign_up(site)
    user = user_by_email_fragment((await site.get("/tts")).text)
    at_rate_limit(user)
    decoded = []
    monkeypatch.setattr("api.generation.decode_upload", lambda *args: decoded.append(args))
    resp = await upload(site, token, to_wav(SPEECHLIKE, RATE))
    assert resp.status_code == 429 and "Try again in" in resp.text
    assert decoded == []
    assert not (get_settings().var_dir / "objects" / "uploads").exists()


async def test_an_upload_named_with_control_characters_is_stored_under_a_safe_name(site: httpx.AsyncClient) -> None:
    token = await sign_up(site)
    body = (  # by hand: clients percent-encode such names, a raw client need not
        b'--b\r\nContent-Disposition: form-data; name="voice"\r\n\r\nbf_emma\r\n'
        b'--b\r\nContent-Disposition: form-data; name="audio"; filename="take\x00one\x07.wa\x00v"\r\n'
        b"Content-Type: audio/wav\r\n\r\n" + to_wav(SPEECHLIKE, RATE) + b"\r\n--b--\r\n"
    )
    headers = HTMX | {"X-CSRF-Token": token, "content-type": "multipart/form-data; boundary=b"}
    resp = await site.post("/voice-changer", content=body, headers=headers)
    assert resp.status_code == 202, resp.text
    clip_id = re.search(r'id="clip-([0-9a-f-]+)"', resp.text).group(1)
    with session_scope() as s:
        clip = s.get(Clip, uuid.UUID(clip_id))
    assert clip.settings["source_name"] == "takeone.wav"
    assert clip.settings["source_key"].endswith(".wav")
    assert get_store().exists(clip.settings["source_key"])


async def test_a_lock_wait_past_the_timeout_is_a_503_not_a_hang(site: httpx.AsyncClient) -> None:
    """Someone else holds the user's row (a stuck process): the start gives up with a 503."""
    token = await sign_up(site)
    user = user_by_email_fragment((await site.get("/tts")).text)
    engine = get_engine()
    if engine.dialect.name == "sqlite":
        pytest.skip("SQLite has one database-wide lock; its busy timeout is covered by the burst test")
    with engine.connect() as holder:
        holder.execute(update(User).where(User.id == user.id).values(credits=User.credits))  # row lock, not committed
        resp = await asyncio.wait_for(generate(site, token), timeout=LIVENESS_SECONDS)
        holder.rollback()
    assert resp.status_code == 503 and "busy" in resp.text and resp.headers["Retry-After"]
    assert clip_count(user) == 0 and admissions(user) == 0
