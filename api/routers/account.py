"""Account page: balance, and the user's API keys (create, list, revoke).

Creating and revoking answer with a redirect to /account (post/redirect/get), so reloading the page
never creates a second key or repeats a revoke. The new key travels to that one GET in the session:
the session cookie is already the account's credential (it can create keys), so holding a key in it
for one redirect exposes nothing new, and it is removed the moment the page shows it.
"""

import uuid
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from api.deps import CsrfChecked, CurrentUser, DbSession
from api.errors import UserError
from api.templating import render
from studio import api_keys
from studio.models import ApiKey, User

router = APIRouter()

FLASH = "account_flash"  # session entry read (and removed) by the next GET /account


def _page(request: Request, db: DbSession, user: CurrentUser, status_code: int = 200, **context):  # noqa: ANN003, ANN202
    return render(request, "account.html", status_code=status_code, keys=api_keys.list_keys(db, user), **context)


def _back_to_account(request: Request, **flash: str) -> RedirectResponse:
    request.session[FLASH] = flash
    return RedirectResponse("/account#api-keys", status_code=303)


@router.get("/account")
def account(request: Request, user: CurrentUser, db: DbSession):  # noqa: ANN201
    flash = request.session.pop(FLASH, None) or {}
    shown = {k: v for k, v in flash.items() if k in ("new_key", "new_key_name", "message") and isinstance(v, str)}
    return _page(request, db, user, **shown)


@router.get("/account/keys")
def keys_page() -> RedirectResponse:
    """The keys live on the account page; a bookmarked or reloaded form address lands there."""
    return RedirectResponse("/account#api-keys", status_code=303)


def _active_key_named(db: DbSession, user: User, name: str) -> ApiKey | None:
    """Names are unique among a user's live keys (a revoked key's name may be used again)."""
    return db.scalar(select(ApiKey).where(ApiKey.user_id == user.id, ApiKey.name == name, ApiKey.revoked_at.is_(None)))


DUPLICATE = "You already have a key named “{name}”. Choose another name, or revoke that key first."


@router.post("/account/keys", dependencies=[CsrfChecked])
def create_key(request: Request, user: CurrentUser, db: DbSession, name: Annotated[str, Form(max_length=100)] = ""):  # noqa: ANN201
    name = name.strip()
    if not name:
        return _page(request, db, user, status_code=422, error="Give the key a name, e.g. where you will use it.")
    if _active_key_named(db, user, name) is not None:
        return _page(request, db, user, status_code=409, error=DUPLICATE.format(name=name), key_name=name)
    try:
        row, key = api_keys.create_key(db, user, name)
        db.commit()
    except IntegrityError:  # the same name created at the same moment (two tabs): the index refuses one
        db.rollback()
        return _page(request, db, user, status_code=409, error=DUPLICATE.format(name=name), key_name=name)
    return _back_to_account(request, new_key=key, new_key_name=row.name)


@router.post("/account/keys/{key_id}/revoke", dependencies=[CsrfChecked])
def revoke_key(request: Request, key_id: str, user: CurrentUser, db: DbSession):  # noqa: ANN201
    try:
        found = api_keys.revoke_key(db, user, uuid.UUID(key_id))
    except ValueError:
        found = False
    if not found:
        raise UserError("No such key.", 404)
    db.commit()
    return _back_to_account(request, message="Key revoked. Requests using it are now refused.")
