"""Refuses request bodies over a limit while they stream in, before they are buffered.

A declared Content-Length over the limit is answered 413 at once, without reading the body; a
chunked body is counted as it arrives and cut off the moment it passes the limit, and whatever
the app would have answered is replaced by the 413.
"""

from html import escape

from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyTooLarge(Exception):
    pass


def too_large_response(scope: Scope, limit: int) -> Response:
    message = f"The file is too large: the limit is {limit // (1024 * 1024)} MB."
    if scope["path"].startswith("/v1/"):
        return JSONResponse({"detail": {"status": "file_too_large", "message": message}}, status_code=413)
    return HTMLResponse(f'<div class="alert error" role="alert">{escape(message)}</div>', status_code=413)


class UploadLimit:
    def __init__(self, app: ASGIApp, limit: int, paths: tuple[str, ...]) -> None:
        self.app, self.limit, self.paths = app, limit, paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.paths):
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.limit:
            await too_large_response(scope, self.limit)(scope, receive, send)
            return
        seen, exceeded = 0, False

        async def counted() -> Message:
            nonlocal seen, exceeded
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
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
            await too_large_response(scope, self.limit)(scope, receive, send)
