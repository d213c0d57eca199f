"""Sign up, sign in, sign out."""

import re
import uuid
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from api.deps import CsrfChecked, DbSession
from api.login_throttle import wait_message
from api.security import dummy_password_hash, hash_password, verify_password
from api.templating import render
from studio import credits
from studio.models import User
from studio.settings import get_settings

router = APIRouter()

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD = 8


def _safe_next(next_url: str | None) -> str:
    """Only same-site paths, so the redirect can't be used to send people elsewhere."""
    if next_url and next_url.startswith("/") and not next_url.startswith("//"):
        return next_url
    return "/tts"


def _sign_in(request: Request, user: User, next_url: str | None) -> RedirectResponse:
    csrf = request.session.get("csrf")
    request.session.clear()  # a fresh session on sign-in
    # The version makes the cookie revocable: signing out bumps it, and get_current_user refuses older ones.
    request.session.update(user_id=str(user.id), session_version=user.session_version, csrf=csrf)
    return RedirectResponse(_safe_next(next_url), status_code=303)


@router.get("/signup")
def signup_page(request: Request):  # noqa: ANN201
    return render(request, "auth/signup.html")


@router.post("/signup", dependencies=[CsrfChecked])
def signup(
    request: Request,
    db: DbSession,
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
):  # noqa: ANN201
    email = email.strip().lower()
    error = None
    if not EMAIL.match(email):
        error = "Enter a valid email address."
    elif len(password) < MIN_PASSWORD:
        error = f"Choose a password of at least {MIN_PASSWORD} characters."
    elif db.scalar(select(func.count()).select_from(User).where(User.email == email)):
        error = "An account with this email already exists. Sign in instead."
    if error:
        return render(request, "auth/signup.html", status_code=422, error=error, email=email)
    user = User(email=email, password_hash=hash_password(password), credits=0)
    db.add(user)
    try:
        db.flush()
        credits.grant(db, user, get_settings().signup_credits, key=f"signup:{user.id}")
        db.commit()
    except IntegrityError:
        db.rollback()
        msg = "An account with this email already exists. Sign in instead."
        return render(request, "auth/signup.html", status_code=422, error=msg, email=email)
    return _sign_in(request, user, "/tts")


@router.get("/login")
def login_page(request: Request, next: str | None = None, signed_out: bool = False):  # noqa: ANN201, A002
    return render(request, "auth/login.html", next=_safe_next(next), signed_out=signed_out)


@router.post("/login", dependencies=[CsrfChecked])
def login(
    request: Request,
    db: DbSession,
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    next: Annotated[str | None, Form(max_length=2048)] = None,  # noqa: A002
):  # noqa: ANN201
    email_key = email.strip().lower()
    ip = request.client.host if request.client else "unknown"
    throttle = request.app.state.login_throttle
    if wait := throttle.retry_after(email_key, ip):
        # Refused before checking the password, so a throttled guess learns nothing, right or wrong.
        return render(
            request,
            "auth/login.html",
            status_code=429,
            headers={"Retry-After": str(wait)},
            error=wait_message(wait),
            email=email,
            next=_safe_next(next),
        )
    user = db.scalar(select(User).where(User.email == email_key))
    # An unknown e-mail still pays for one verification, so timing does not tell which e-mails exist.
    ok = verify_password(password, user.password_hash if user is not None else dummy_password_hash())
    if user is None or not ok:
        throttle.failed(email_key, ip)
        msg = "Wrong email or password."
        return render(request, "auth/login.html", status_code=401, error=msg, email=email, next=_safe_next(next))
    throttle.succeeded(email_key)
    return _sign_in(request, user, next)


@router.post("/logout", dependencies=[CsrfChecked])
def logout(request: Request, db: DbSession) -> RedirectResponse:
    """Signs out everywhere: every cookie issued to this account so far stops working, copies included."""
    user_id, version = request.session.get("user_id"), request.session.get("session_version")
    if user_id and isinstance(version, int):
        try:
            uid = uuid.UUID(user_id)
        except ValueError:
            uid = None
        if uid is not None:
            # Only a still-valid session may revoke the others (a revoked copy can't sign the owner out).
            db.execute(
                update(User)
                .where(User.id == uid, User.session_version == version)
                .values(session_version=User.session_version + 1)
            )
            db.commit()
    request.session.clear()
    return RedirectResponse("/login?signed_out=1", status_code=303)
