"""Account page: balance, and the user's API keys (create, list, revoke)."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Form, Request

from api.deps import CsrfChecked, CurrentUser, DbSession
from api.errors import UserError
from api.templating import render
from studio import api_keys

router = APIRouter()


def _page(request: Request, db: DbSession, user: CurrentUser, status_code: int = 200, **context):  # noqa: ANN003, ANN202
    return render(request, "account.html", status_code=status_code, keys=api_keys.list_keys(db, user), **context)


@router.get("/account")
def account(request: Request, user: CurrentUser, db: DbSession):  # noqa: ANN201
    return _page(request, db, user)


@router.post("/account/keys", dependencies=[CsrfChecked])
def create_key(request: Request, user: CurrentUser, db: DbSession, name: Annotated[str, Form(max_length=100)] = ""):  # noqa: ANN201
    name = name.strip()
    if not name:
        return _page(request, db, user, status_code=422, error="Give the key a name, e.g. where you will use it.")
    row, key = api_keys.create_key(db, user, name)
    db.commit()
    return _page(request, db, user, new_key=key, new_key_name=row.name)


@router.post("/account/keys/{key_id}/revoke", dependencies=[CsrfChecked])
def revoke_key(request: Request, key_id: str, user: CurrentUser, db: DbSession):  # noqa: ANN201
    try:
        found = api_keys.revoke_key(db, user, uuid.UUID(key_id))
    except ValueError:
        found = False
    if not found:
        raise UserError("No such key.", 404)
    db.commit()
    return _page(request, db, user, message="Key revoked. Requests using it are now refused.")
