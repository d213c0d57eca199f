"""Jinja2 templates shared by the routers, with the helpers every page uses."""

from fastapi import Request
from fastapi.templating import Jinja2Templates

from api.security import csrf_token
from studio.settings import ROOT, get_settings
from temporal.client import workflow_ui_url

templates = Jinja2Templates(directory=ROOT / "templates")
templates.env.globals["workflow_ui_url"] = workflow_ui_url


def is_operator(user: object) -> bool:
    """Whether ``user`` runs this installation (``STUDIO_OPERATOR_EMAILS``): only operators see links
    into the Temporal Web UI, which shows every user's clips and has no login of its own."""
    return user is not None and get_settings().is_operator_email(getattr(user, "email", None))


templates.env.globals["is_operator"] = is_operator


def _page_context(request: Request, context: dict) -> dict:
    context.setdefault("user", getattr(request.state, "user", None))
    context["csrf_token"] = csrf_token(request)
    context["csp_nonce"] = getattr(request.state, "csp_nonce", "")
    return context


def render(request: Request, name: str, status_code: int = 200, headers: dict | None = None, **context):  # noqa: ANN201
    context = _page_context(request, context)
    return templates.TemplateResponse(request, name, context, status_code=status_code, headers=headers)


def render_fragment(request: Request, name: str, **context) -> str:
    """A template as HTML text, for content pushed to the page (server-sent events)."""
    return templates.get_template(name).render(_page_context(request, context) | {"request": request})


def is_htmx(request: Request) -> bool:
    """Whether the page asked for a fragment. Boosted navigation (a link or form the whole site
    boosts) asks for a whole page: it swaps the page in and keeps the playbar playing."""
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-Boosted") != "true"
