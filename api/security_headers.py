"""Browser hardening headers on every response, and a per-request nonce for the pages' inline scripts.

Clickjacking (frame-ancestors / X-Frame-Options), MIME sniffing of user audio (nosniff), and
script injection (a CSP that runs only our own files and the inline scripts we stamped with this
request's nonce). Styles may be inline: htmx injects its indicator style at run time.
"""

import secrets

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

NO_CSP_PATHS = ("/docs", "/redoc")  # FastAPI's API explorer pages load their own scripts


class SecurityHeaders:
    def __init__(self, app: ASGIApp, media_origins: tuple[str, ...] = ()) -> None:
        """``media_origins``: where signed audio links may point besides this site (an S3 endpoint)."""
        self.app, self.media_sources = app, " ".join(("'self'", "blob:", *media_origins))

    def policy(self, nonce: str) -> str:
        return "; ".join((
            "default-src 'self'", f"script-src 'self' 'nonce-{nonce}'", "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:", f"media-src {self.media_sources}", "connect-src 'self'", "object-src 'none'",
            "base-uri 'self'", "form-action 'self'", "frame-ancestors 'none'",
        ))  # fmt: skip

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        nonce = secrets.token_urlsafe(16)
        scope.setdefault("state", {})["csp_nonce"] = nonce
        with_csp = not scope["path"].startswith(NO_CSP_PATHS)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("X-Frame-Options", "DENY")
                headers.setdefault("Referrer-Policy", "same-origin")
                headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
                headers.setdefault("Permissions-Policy", "microphone=(self), camera=(), geolocation=()")
                if with_csp:
                    headers.setdefault("Content-Security-Policy", self.policy(nonce))
            await send(message)

        await self.app(scope, receive, send_with_headers)
