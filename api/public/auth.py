"""API-key authentication: ``xi-api-key`` (ElevenLabs) or ``Authorization: Bearer`` (OpenAI)."""

from typing import Annotated

from fastapi import Depends
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from api.deps import DbSession
from api.public.errors import ApiError
from studio import api_keys
from studio.models import User

xi_api_key = APIKeyHeader(name="xi-api-key", auto_error=False, description="ElevenLabs-style key header")
bearer = HTTPBearer(auto_error=False, description="OpenAI-style `Authorization: Bearer <key>`")


def api_user(
    db: DbSession,
    header_key: Annotated[str | None, Depends(xi_api_key)],
    bearer_key: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> User:
    key = header_key or (bearer_key.credentials if bearer_key else None)
    if not key:
        raise ApiError(401, "Missing API key: send it as xi-api-key or Authorization: Bearer.", "needs_authorization")
    user = api_keys.user_for_key(db, key)
    if user is None:
        raise ApiError(401, "Invalid or revoked API key.")
    db.commit()  # records last_used_at
    return user


ApiUser = Annotated[User, Depends(api_user)]
