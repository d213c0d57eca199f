"""Password hashing and CSRF tokens."""

import functools
import hmac
import secrets

from fastapi import Request
from passlib.context import CryptContext

_passwords = CryptContext(schemes=["argon2"], deprecated="auto")


def hash_password(password: str) -> str:
    return _passwords.hash(password)


def verify_password(password: str, hashed: str) -> bool:
    try:
        return _passwords.verify(password, hashed)
    except (ValueError, TypeError):
        return False


@functools.cache
def dummy_password_hash() -> str:
    """A hash of a random password with the same parameters as real ones.

    Sign-in verifies against it when the e-mail is unknown, so that answer takes as long as a wrong
    password for a real account and response times do not reveal which e-mails have accounts.
    """
    return hash_password(secrets.token_urlsafe(16))


def csrf_token(request: Request) -> str:
    """The session's CSRF token, created on first use (also before sign-in)."""
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = secrets.token_urlsafe(32)
    return token


def csrf_ok(request: Request, supplied: str | None) -> bool:
    expected = request.session.get("csrf")
    return bool(expected and supplied and hmac.compare_digest(expected, supplied))
