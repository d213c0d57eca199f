"""The site's FastAPI application: routers, sessions, static files and error pages.

``uvicorn api.main:app``
"""

import asyncio
import logging

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
from api.public import elevenlabs_routes, openai_routes, stream_input
from api.public.errors import ApiError, error_response, is_public_api
from api.routers import account, auth, clips, site, sound_effects, tts, voice_changer, voices
from api.security_headers import SecurityHeaders
from api.templating import is_htmx, render
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


def _error_response(request: Request, message: str, status_code: int, headers: dict | None = None) -> Response:
    if is_public_api(request):
        return error_response(request, status_code, message, headers=headers)
    template = "partials/error.html" if is_htmx(request) else "error.html"
    return render(request, template, status_code=status_code, headers=headers, message=message)


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
        auth,
        tts,
        voice_changer,
        voices,
        sound_effects,
        clips,
        account,
    ):  # the site's pages stay out of the API schema
        app.include_router(module.router, include_in_schema=False)
    app.include_router(elevenlabs_routes.router)
    app.include_router(elevenlabs_routes.v2_router)
    app.include_router(openai_routes.router)
    app.include_router(stream_input.router)

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> Response:
        return error_response(request, exc.status_code, exc.message, exc.code, exc.headers)

    @app.exception_handler(UserError)
    async def user_error(request: Request, exc: UserError) -> Response:
        return _error_response(request, exc.message, exc.status_code, exc.headers)

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
        return _error_response(
            request, "The studio is busy right now; try again in a moment.", 503, {"Retry-After": "2"}
        )

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        return _error_response(request, _validation_message(exc), 422)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        message = "Page not found." if exc.status_code == 404 else str(exc.detail)
        return _error_response(request, message, exc.status_code)

    return app


app = create_app()
        site,
