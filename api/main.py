"""The site's FastAPI application: routers, sessions, static files and error pages.

``uvicorn api.main:app``
"""

import asyncio
import logging
import uuid

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException
from starlette.middleware.sessions import SessionMiddleware
from temporalio.client import Client

from api.body_limit import BodyLimit
from api.errors import LoginRequired, UserError
from api.login_throttle import throttle_from_settings
from api.public import elevenlabs_routes, openai_routes, pronunciation_routes, stream_input
from api.public.errors import ApiError, error_response, is_public_api
from api.routers import account, auth, clips, pronunciation, site, sound_effects, tts, voice_changer, voices
from api.security_headers import SecurityHeaders
from api.templating import is_htmx, render
from studio.db import get_sessionmaker
from studio.models import User
from studio.settings import ROOT, get_settings
from temporal.client import connect

log = logging.getLogger(__name__)


class TemporalConnection:
    """Connects on first use, so the site comes up even before Temporal does."""

    def __init__(self) -> None:
        self._client: Client | None = None
        self._lock = asyncio.Lock()

    async def __call__(self) -> Client:
        async with self._lock:
            if self._client is None:
                try:
                    self._client = await connect()
                except Exception as exc:
                    raise UserError("The job service is unavailable right now. Try again shortly.", 503) from exc
            return self._client


# What an HTML error page says above the message, and what to try; by status.
ERROR_PAGES: dict[int, tuple[str, str]] = {
    400: ("That request did not work", "Check the form and try again."),
    401: ("Please sign in", "Sign in to continue."),
    402: ("Not enough credits", "A smaller request costs less; credits come back when a generation fails."),
    403: ("Not allowed", "If the page was open for a long time, reload it and try again."),
    404: ("Page not found", "The address may be mistyped, or the page or clip was deleted."),
    405: ("Not available at this address", "This address does not take that kind of request; use the links below."),
    409: ("That clashes with something", "Change it and try again."),
    413: ("Too large", "Choose a smaller file."),
    422: ("Please check what you entered", "Change it and try again."),
    429: ("Slow down a moment", "Too many requests in a short time; try again shortly."),
    503: ("Busy right now", "The studio is busy or restarting; try again in a moment."),
}


def _error_page(status_code: int) -> tuple[str, str]:
    if status_code in ERROR_PAGES:
        return ERROR_PAGES[status_code]
    if status_code >= 500:
        return "Something went wrong on our side", "It has been logged. Try again, or go somewhere else."
    return "That did not work", ""


def _signed_in_user(request: Request) -> User | None:
    """The visitor's account for an error page's nav. Errors often come before (or instead of) the
    route's CurrentUser dependency, so it is looked up here; any failure shows the page without nav."""
    user = getattr(request.state, "user", None)
    if user is not None or "session" not in request.scope:
        return user
    user_id = request.session.get("user_id")
    if not user_id:
        return None
    try:
        with get_sessionmaker()() as db:
            user = db.get(User, uuid.UUID(str(user_id)))
    except Exception:  # noqa: BLE001 - an error page must render whatever the database does
        return None
    if user is None or request.session.get("session_version") != user.session_version:
        return None
    return user


async def _error_response(
    request: Request, message: str, status_code: int, headers: dict | None = None, find_user: bool = True
) -> Response:
    """JSON under the public API; an HTML fragment for htmx (it lands where the form's result would);
    else error.html in the full layout, with the nav when signed in."""
    if is_public_api(request):
        return error_response(request, status_code, message, headers=headers)
    if is_htmx(request):
        return render(request, "partials/error.html", status_code=status_code, headers=headers, message=message)
    user = await asyncio.to_thread(_signed_in_user, request) if find_user else None
    title, hint = _error_page(status_code)
    return render(
        request, "error.html", status_code=status_code, headers=headers, message=message, user=user,
        title=title, hint=hint, status=status_code,
    )  # fmt: skip


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors():
        field = ".".join(str(p) for p in err.get("loc", ())[1:]) or "request"
        parts.append(f"{field}: {err.get('msg', 'invalid value')}")
    return "Some fields are not valid — " + "; ".join(parts)


def create_app() -> FastAPI:
    settings = get_settings()

    app = FastAPI(
        title="Studio API",
        description="ElevenLabs- and OpenAI-compatible speech API. Authenticate with an API key from /account.",
        version="1.0",
    )
    app.state.temporal = TemporalConnection()
    app.state.login_throttle = throttle_from_settings()
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret_key,
        session_cookie="studio_session",
        max_age=14 * 24 * 3600,
        same_site="lax",
        https_only=settings.secure_cookies,
    )
    app.add_middleware(
        BodyLimit,
        upload_limit=settings.vc_max_upload_bytes,
        upload_paths=("/voice-changer", "/v1/speech-to-speech", "/v1/voice-changer", "/voices/fit", "/v1/voices/add"),
    )
    s3_origin = settings.s3_endpoint_url if settings.storage_backend == "s3" and settings.s3_endpoint_url else None
    app.add_middleware(SecurityHeaders, media_origins=(s3_origin,) if s3_origin else ())
    app.mount("/static", StaticFiles(directory=ROOT / "api" / "static"), name="static")
    for module in (
        site,
        auth,
        tts,
        voice_changer,
        voices,
        sound_effects,
        clips,
        account,
        pronunciation,
    ):  # the site's pages stay out of the API schema
        app.include_router(module.router, include_in_schema=False)
    app.include_router(elevenlabs_routes.router)
    app.include_router(elevenlabs_routes.v2_router)
    app.include_router(openai_routes.router)
    app.include_router(pronunciation_routes.router)
    app.include_router(stream_input.router)

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> Response:
        return error_response(request, exc.status_code, exc.message, exc.code, exc.headers)

    @app.exception_handler(UserError)
    async def user_error(request: Request, exc: UserError) -> Response:
        return await _error_response(request, exc.message, exc.status_code, exc.headers)

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        if is_htmx(request):
            return Response(status_code=401, headers={"HX-Redirect": "/login"})
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)

    @app.exception_handler(OperationalError)
    @app.exception_handler(PoolTimeout)
    async def database_busy(request: Request, exc: OperationalError | PoolTimeout) -> Response:
        # A lock or statement timeout (PostgreSQL) or a busy SQLite: the request can be retried.
        log.warning("database busy on %s: %s", request.url.path, exc)
        return await _error_response(
            request, "The studio is busy right now; try again in a moment.", 503, {"Retry-After": "2"}, find_user=False
        )

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        return await _error_response(request, _validation_message(exc), 422)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        if exc.status_code == 404:
            message = "There is no page at this address."
        elif exc.status_code == 405:
            message = f"{request.method} is not accepted at {request.url.path}."
        else:
            message = str(exc.detail)
        return await _error_response(request, message, exc.status_code, getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        # Starlette logs the exception and re-raises it after this answer: the visitor gets a page
        # in the layout instead of a bare "Internal Server Error".
        return await _error_response(request, "Something went wrong while answering this request.", 500)

    return app


app = create_app()
