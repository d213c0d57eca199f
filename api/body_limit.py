"""Caps every request body by route, while it streams in and before anything reads it.

Bodies are read before any sign-in, API-key or CSRF check (FastAPI parses forms and JSON to call
the handler), so without a cap anyone could make the server buffer or spool gigabytes. Upload
routes get the upload limit; every other route a small one that fits the largest form or JSON
body the studio accepts. A declared Content-Length over the cap is answered 413 at once, without
reading the body; a chunked body is counted as it arrives and cut off the moment it passes the
cap, and whatever the app would have answered is replaced by the 413.
"""

from html import escape

from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MB = 1024 * 1024
DEFAULT_LIMIT = 1 * MB  # forms and JSON: text is capped at 100 000 characters on the largest form
MULTIPART_OVERHEAD = 64 * 1024  # the other form fields and part headers around an upload


class BodyTooLarge(Exception):
    pass


def _size(limit: int) -> str:
    return f"{limit / MB:g} MB" if limit >= MB else f"{limit // 1024} KB"


def too_large_response(scope: Scope, limit: int, upload: bool) -> Response:
    what = "The file" if upload else "The request"
    message = f"{what} is too large: the limit is {_size(limit)}."
    if scope["path"].startswith("/v1/"):
        return JSONResponse({"detail": {"status": "file_too_large" if upload else "request_too_large",
                                        "message": message}}, status_code=413)  # fmt: skip
    return HTMLResponse(f'<div class="alert error" role="alert">{escape(message)}</div>', status_code=413)


class BodyLimit:
    """``upload_paths`` (prefixes) may carry ``upload_limit`` bytes of file; everything else ``default_limit``."""

    def __init__(
        self, app: ASGIApp, upload_limit: int, upload_paths: tuple[str, ...], default_limit: int = DEFAULT_LIMIT
    ) -> None:
        self.app, self.upload_limit, self.upload_paths, self.default_limit = (
            app, upload_limit, upload_paths, default_limit,
        )  # fmt: skip

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        upload = scope["path"].startswith(self.upload_paths)
        limit = self.upload_limit if upload else self.default_limit
        allowed = limit + MULTIPART_OVERHEAD if upload else limit
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > allowed:
            await too_large_response(scope, limit, upload)(scope, receive, send)
            return
        seen, exceeded = 0, False

        async def counted() -> Message:
            nonlocal seen, exceeded
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > allowed:
                exceeded = True
                raise BodyTooLarge()
            return message

        async def guarded_send(message: Message) -> None:
            if not exceeded:
                await send(message)

        try:
            await self.app(scope, counted, guarded_send)
        except BodyTooLarge:
            pass
        if exceeded:
            await too_large_response(scope, limit, upload)(scope, receive, send)
