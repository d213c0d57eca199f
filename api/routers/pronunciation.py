"""Pronunciation page: the user's own dictionary on the site (``studio.pronunciation_library``).

Its rules apply to every text to speech the user makes on the site; the same dictionary is listed
by the public API (``GET /v1/pronunciation-dictionaries``), so a client may name it too. Adding and
removing answer with a redirect back here (post/redirect/get); a rule that cannot be used is
refused with the form kept as typed and the message beside it.
"""

from typing import Annotated, Literal

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse

from api.deps import CsrfChecked, CurrentUser, DbSession
from api.templating import render
from studio import pronunciation, pronunciation_library
from studio.pronunciation import RuleProblem

router = APIRouter()

FLASH = "pronunciation_flash"  # the message the next GET /pronunciation shows (and removes)


def _page(request: Request, db: DbSession, user: CurrentUser, status_code: int = 200, **context):  # noqa: ANN003, ANN202
    dictionary = pronunciation_library.site_dictionary(db, user.id)
    return render(
        request, "pronunciation.html", status_code=status_code, dictionary=dictionary,
        rules=list(dictionary.rules) if dictionary else [], max_rules=pronunciation.MAX_RULES,
        max_string=pronunciation.MAX_STRING_CHARS, max_alias=pronunciation.MAX_ALIAS_CHARS,
        max_phoneme=pronunciation.MAX_PHONEME_CHARS, **context,
    )  # fmt: skip


def _back(request: Request, message: str) -> RedirectResponse:
    request.session[FLASH] = message
    return RedirectResponse("/pronunciation#rules", status_code=303)


@router.get("/pronunciation")
def pronunciation_page(request: Request, user: CurrentUser, db: DbSession):  # noqa: ANN201
    message = request.session.pop(FLASH, None)
    return _page(request, db, user, message=message if isinstance(message, str) else None)


@router.post("/pronunciation/rules", dependencies=[CsrfChecked])
def add_rule(
    request: Request,
    user: CurrentUser,
    db: DbSession,
    word: Annotated[str, Form(max_length=1000)] = "",
    kind: Annotated[Literal["alias", "phoneme"], Form()] = "alias",
    said: Annotated[str, Form(max_length=1000)] = "",
):  # noqa: ANN201
    """Add (or replace) the rule for ``word``: said as the text ``said`` (alias) or as the IPA ``said``."""
    rule = {"type": kind, "string_to_replace": word}
    rule |= {"alias": said} if kind == "alias" else {"phoneme": said, "alphabet": "ipa"}
    try:
        pronunciation.check_rule(rule)
        pronunciation_library.add_site_rule(db, user.id, rule)
        db.commit()
    except RuleProblem as exc:
        db.rollback()
        message = str(exc).removeprefix("Rule 1: ").removeprefix(f"Rule 1 ({word.strip()}): ")
        message = message.replace(", or CMU ARPAbet with alphabet cmu-arpabet", "")  # the API's alternative
        return _page(request, db, user, status_code=422, error=message, word=word, kind=kind, said=said)
    return _back(request, f"“{word.strip()}” added. Your text to speech on the site now says it that way.")


@router.post("/pronunciation/rules/remove", dependencies=[CsrfChecked])
def remove_rule(request: Request, user: CurrentUser, db: DbSession, word: Annotated[str, Form(max_length=1000)] = ""):  # noqa: ANN201
    pronunciation_library.remove_site_rule(db, user.id, word)
    db.commit()
    return _back(request, f"“{word.strip()}” removed.")
