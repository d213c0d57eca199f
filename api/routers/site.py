"""The front door: a landing page for signed-out visitors and the site icon."""

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from api.deps import DbSession, get_current_user
from api.errors import LoginRequired
from api.templating import render
from studio.settings import ROOT, get_settings

router = APIRouter()

LOGO = ROOT / "api" / "static" / "img" / "logo.svg"


@router.get("/")
def home(request: Request, db: DbSession) -> Response:
    """Signed in: straight to work (text to speech). Signed out: what the studio does, and the way in."""
    try:
        get_current_user(request, db)
    except LoginRequired:
        settings = get_settings()
        return render(request, "landing.html", signup_credits=settings.signup_credits)
    return RedirectResponse("/tts", status_code=303)


@router.get("/favicon.ico")
def favicon() -> FileResponse:
    """Browsers ask for /favicon.ico whatever the page says; answer with the logo, not a 404."""
    return FileResponse(LOGO, media_type="image/svg+xml", headers={"Cache-Control": "public, max-age=86400"})
