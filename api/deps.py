"""Request dependencies: database session, current user, CSRF check, Temporal client."""

import uuid
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from temporalio.client import Client

from api.errors import LoginRequired, UserError
from api.security import csrf_ok
from studio.db import get_sessionmaker
from studio.models import User


def get_db() -> Iterator[Session]:
    """The request's session. Dependencies end their reads with a commit so that no pooled
    connection stays checked out while an async handler awaits Temporal or a worker thread."""
    with get_sessionmaker()() as session:
        yield session


DbSession = Annotated[Session, Depends(get_db)]


def get_current_user(request: Request, db: DbSession) -> User:
    user_id = request.session.get("user_id")
    try:
        user = db.get(User, uuid.UUID(user_id)) if user_id else None
    except ValueError:
        user = None
    # A cookie from before the account's last sign-out (or from before versions existed) is revoked.
    if user is None or request.session.get("session_version") != user.session_version:
        request.session.pop("user_id", None)
        request.session.pop("session_version", None)
        raise LoginRequired()
    db.commit()  # end the read: the connection goes back to the pool while the handler awaits other work
    request.state.user = user
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


async def verify_csrf(request: Request) -> None:
    """Every state-changing request carries the session's token, as a form field or HTMX header."""
    supplied = request.headers.get("X-CSRF-Token")
    if supplied is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        supplied = (await request.form()).get("csrf_token")
    if not csrf_ok(request, supplied if isinstance(supplied, str) else None):
        raise UserError("Your session expired or the form is stale. Reload the page and try again.", 403)


CsrfChecked = Depends(verify_csrf)


async def get_temporal(request: Request) -> Client:
    return await request.app.state.temporal()


TemporalClient = Annotated[Client, Depends(get_temporal)]


async def get_temporal_if_up(request: Request) -> Client | None:
    """For pages that can fall back to the database when Temporal is unreachable."""
    try:
        return await request.app.state.temporal()
    except UserError:
        return None


MaybeTemporalClient = Annotated[Client | None, Depends(get_temporal_if_up)]
