"""Errors of the public API, in the JSON shape each client family expects."""

from fastapi import Request
from fastapi.responses import JSONResponse

CODES = {
    400: "invalid_request",
    401: "invalid_api_key",
    402: "quota_exceeded",
    403: "forbidden",
    404: "not_found",
    409: "conflict",
    422: "invalid_parameters",
    429: "too_many_requests",
    501: "not_implemented",
    502: "generation_failed",
    503: "service_unavailable",
    504: "timeout",
}


class ApiError(Exception):
    def __init__(self, status_code: int, message: str, code: str | None = None, headers: dict | None = None) -> None:
        super().__init__(message)
        self.status_code, self.message, self.headers = status_code, message, headers or {}
        self.code = code or CODES.get(status_code, "error")


def is_public_api(request: Request) -> bool:
    return request.url.path.startswith(("/v1/", "/v2/"))


def error_response(request: Request, status_code: int, message: str, code: str | None = None,
                   headers: dict | None = None) -> JSONResponse:  # fmt: skip
    """ElevenLabs shape ``{"detail": {"status", "message"}}``; OpenAI shape under /v1/audio/."""
    code = code or CODES.get(status_code, "error")
    if request.url.path.startswith("/v1/audio/"):
        body = {"error": {"message": message, "type": code, "param": None, "code": code}}
    else:
        body = {"detail": {"status": code, "message": message}}
    return JSONResponse(body, status_code=status_code, headers=headers)
