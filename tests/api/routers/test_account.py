"""Account page: API keys by post/redirect/get (a key shown once, reloads create nothing), unique
names among a user's live keys, and the key list's markup for phones."""

import re

import httpx
import pytest
from sqlalchemy import func, select

from studio.db import session_scope
from studio.models import ApiKey, User
from tests.api.routers.test_clips import user_by_email_fragment
from tests.site import csrf_from, sign_up

NEW_KEY = re.compile(r'<pre id="new-key">([^<]+)</pre>')


def live_keys(user: User) -> list[str]:
    with session_scope() as s:
        return list(s.scalars(select(ApiKey.name).where(ApiKey.user_id == user.id, ApiKey.revoked_at.is_(None))))


async def create(site: httpx.AsyncClient, name: str) -> httpx.Response:
    token = csrf_from((await site.get("/account")).text)
    return await site.post("/account/keys", data={"name": name, "csrf_token": token})


@pytest.fixture
async def user(site: httpx.AsyncClient) -> User:
    await sign_up(site)
    return user_by_email_fragment((await site.get("/account")).text)


async def test_a_new_key_redirects_and_is_shown_once_with_a_copy_button(site: httpx.AsyncClient, user: User) -> None:
    resp = await create(site, "laptop")
    assert resp.status_code == 303 and resp.headers["location"].startswith("/account")
    assert "sk_studio_" not in resp.text  # the POST's answer carries no key

    page = await site.get(resp.headers["location"])
    key = NEW_KEY.search(page.text).group(1)
    assert key.startswith("sk_studio_") and "laptop" in page.text
    assert 'data-copy="new-key"' in page.text and 'aria-live="polite"' in page.text

    again = await site.get("/account")  # a reload: the key is gone and no second key was made
    assert NEW_KEY.search(again.text) is None and key not in again.text
    assert live_keys(user) == ["laptop"]
    assert (await site.get("/v1/models", headers={"xi-api-key": key})).status_code == 200


async def test_get_of_the_form_address_lands_on_the_account_page(site: httpx.AsyncClient, user: User) -> None:
    resp = await site.get("/account/keys")
    assert resp.status_code == 303 and resp.headers["location"].startswith("/account")
    assert (await site.get("/account/keys", follow_redirects=True)).status_code == 200


async def test_names_are_unique_among_live_keys(site: httpx.AsyncClient, user: User) -> None:
    assert (await create(site, "laptop")).status_code == 303
    duplicate = await create(site, "  laptop ")
    assert duplicate.status_code == 409
    assert "already have a key named “laptop”" in duplicate.text and 'role="alert"' in duplicate.text
    assert 'value="laptop"' in duplicate.text  # the name stays in the field, to edit
    assert live_keys(user) == ["laptop"]

    # Once revoked, the name is free again (the revoked key stays listed, struck through).
    with session_scope() as s:
        key_id = s.scalar(select(ApiKey.id).where(ApiKey.user_id == user.id))
    token = csrf_from((await site.get("/account")).text)
    revoked = await site.post(f"/account/keys/{key_id}/revoke", data={"csrf_token": token})
    assert revoked.status_code == 303
    page = (await site.get("/account")).text
    assert "Key revoked" in page
    assert "Key revoked" not in (await site.get("/account")).text  # said once
    assert (await create(site, "laptop")).status_code == 303
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(ApiKey).where(ApiKey.user_id == user.id)) == 2
    assert live_keys(user) == ["laptop"]


async def test_another_user_may_use_the_same_name(site: httpx.AsyncClient, user: User) -> None:
    assert (await create(site, "laptop")).status_code == 303
    await sign_up(site)
    assert (await create(site, "laptop")).status_code == 303


async def test_the_database_refuses_a_second_live_key_of_the_same_name(user: User) -> None:
    """The check before inserting has a race (two tabs at once); the unique index closes it."""
    from sqlalchemy.exc import IntegrityError

    from studio import api_keys

    with session_scope() as s:
        api_keys.create_key(s, s.get(User, user.id), "twin")
    with pytest.raises(IntegrityError), session_scope() as s:
        api_keys.create_key(s, s.get(User, user.id), "twin")


async def test_an_empty_name_is_a_clear_422(site: httpx.AsyncClient, user: User) -> None:
    resp = await create(site, "   ")
    assert resp.status_code == 422 and "Give the key a name" in resp.text


async def test_the_key_table_stacks_on_a_phone(site: httpx.AsyncClient, user: User) -> None:
    """At 390 px the rows become labelled blocks (forms.css), so each cell says what it is."""
    await create(site, "phone")
    page = (await site.get("/account")).text
    assert 'class="table-wrap"' in page
    for label in ("Name", "Key", "Created", "Last used"):
        assert f'data-label="{label}"' in page


def test_the_migration_renames_existing_duplicates_before_indexing(tmp_path) -> None:  # noqa: ANN001
    """A database from before names were unique: the oldest live key keeps its name, later live
    twins get the next free "name (n)" (an existing "laptop (2)" keeps its name); revoked keys keep theirs."""
    import uuid
    from datetime import UTC, datetime, timedelta

    from alembic import command
    from alembic.config import Config
    from sqlalchemy import create_engine, text

    from studio.settings import ROOT

    url = f"sqlite:///{tmp_path / 'old.db'}"
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("sqlalchemy.url", url)
    command.upgrade(config, "0004")
    engine = create_engine(url)
    user_id, t0 = uuid.uuid4(), datetime(2026, 1, 1, tzinfo=UTC)
    rows = [("laptop", 0, None), ("laptop", 1, None), ("laptop", 2, t0), ("laptop", 3, None), ("laptop (2)", 4, None)]
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO users (id, email, password_hash, credits, created_at, session_version) "
                 "VALUES (:id, 'old@example.com', 'x', 0, :t, 0)"),
            {"id": user_id.hex, "t": t0},
        )  # fmt: skip
        for name, minutes, revoked in rows:
            conn.execute(
                text("INSERT INTO api_keys (id, user_id, name, prefix, key_hash, created_at, revoked_at) "
                     "VALUES (:id, :user, :name, 'sk_studio_x', :hash, :t, :revoked)"),
                {"id": uuid.uuid4().hex, "user": user_id.hex, "name": name, "hash": uuid.uuid4().hex,
                 "t": t0 + timedelta(minutes=minutes), "revoked": revoked},
            )  # fmt: skip
    command.upgrade(config, "head")
    with engine.connect() as conn:
        got = conn.execute(text("SELECT name, revoked_at IS NULL FROM api_keys ORDER BY created_at")).all()
    engine.dispose()
    assert [tuple(r) for r in got] == [
        ("laptop", 1), ("laptop (3)", 1), ("laptop", 0), ("laptop (4)", 1), ("laptop (2)", 1),
    ]  # fmt: skip
