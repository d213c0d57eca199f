"""Errors the site shows to people: a status code and a readable message, never a 500."""


class UserError(Exception):
    """Something the user can fix; rendered as a message in the page."""

    def __init__(self, message: str, status_code: int = 400, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message, self.status_code, self.headers = message, status_code, headers or {}


class LoginRequired(Exception):
    pass
