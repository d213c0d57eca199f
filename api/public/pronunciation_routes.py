"""ElevenLabs' pronunciation dictionaries (``studio.pronunciation``): made from rules, listed, read,
rules added and removed (each change a new version id), and the ``pronunciation_dictionary_locators``
of a speech request resolved into the rules its clip carries to the TTS worker."""

import asyncio
import base64
import uuid
from typing import Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from api.public.auth import ApiUser
from api.public.errors import ApiError
from studio import pronunciation_library as library
from studio.db import session_scope
from studio.models import PronunciationDictionary
from studio.pronunciation import MAX_LOCATORS, RuleProblem

router = APIRouter(prefix="/v1/pronunciation-dictionaries", tags=["ElevenLabs-compatible"])


class Locator(BaseModel):
    model_config = ConfigDict(extra="ignore")
    pronunciation_dictionary_id: str = Field(max_length=64)
    version_id: str | None = Field(None, max_length=64, description="None: the latest version")


class AddFromRules(BaseModel):
    model_config = ConfigDict(extra="ignore")
    name: str = Field(max_length=1000)
    description: str | None = Field(None, max_length=10_000)
    rules: list[dict[str, Any]] = Field(max_length=10_000)
    workspace_access: str | None = None  # accepted; dictionaries here are their owner's alone


class Rules(BaseModel):
    model_config = ConfigDict(extra="ignore")
    rules: list[dict[str, Any]] = Field(max_length=10_000)


class RuleStrings(BaseModel):
    model_config = ConfigDict(extra="ignore")
    rule_strings: list[str] = Field(max_length=10_000)


def _problem(exc: RuleProblem) -> ApiError:
    return ApiError(400, str(exc), "invalid_pronunciation_rules")


def _not_found(exc: library.DictionaryNotFound) -> ApiError:
    return ApiError(404, f"{exc} GET /v1/pronunciation-dictionaries lists yours.", "pronunciation_dictionary_not_found")


def _rule_json(rule: dict[str, Any]) -> dict[str, Any]:
    return dict(rule)


def _metadata(d: PronunciationDictionary) -> dict[str, Any]:
    return {
        "id": d.id, "latest_version_id": d.version_id, "latest_version_rules_num": len(d.rules), "name": d.name,
        "permission_on_resource": "admin", "created_by": str(d.user_id),
        "creation_time_unix": int(d.created_at.timestamp()),
        "archived_time_unix": int(d.archived_at.timestamp()) if d.archived_at else None,
        "description": d.description or None,
    }  # fmt: skip


def _version(d: PronunciationDictionary) -> dict[str, Any]:
    return {"id": d.id, "version_id": d.version_id, "version_rules_num": len(d.rules)}


@router.post("/add-from-rules")
def add_from_rules(body: AddFromRules, user: ApiUser) -> dict[str, Any]:
    """A new dictionary from alias and phoneme rules (``alphabet`` ipa or cmu-arpabet)."""
    with session_scope() as db:
        try:
            d = library.create(db, user.id, body.name, body.rules, body.description or "")
        except RuleProblem as exc:
            raise _problem(exc) from None
        return {
            "id": d.id, "name": d.name, "created_by": str(user.id), "creation_time_unix": int(d.created_at.timestamp()),
            "version_id": d.version_id, "version_rules_num": len(d.rules), "description": d.description or None,
            "permission_on_resource": "admin",
        }  # fmt: skip


def _cursor(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        return max(0, int(base64.urlsafe_b64decode(cursor.encode()).decode()))
    except ValueError:
        raise ApiError(400, "Bad cursor: pass the next_cursor of the previous page.", "invalid_cursor") from None


@router.get("")
def list_dictionaries(
    user: ApiUser,
    cursor: str | None = None,
    page_size: int = Query(30, ge=1, le=100),
    sort: Literal["creation_time_unix", "name"] = "creation_time_unix",
    sort_direction: Literal["ASCENDING", "DESCENDING", "ascending", "descending"] = "DESCENDING",
    include_archived: bool = False,
) -> dict[str, Any]:
    """The user's dictionaries (newest first by default), ``page_size`` at a time."""
    start = _cursor(cursor)
    with session_scope() as db:
        found = library.owned(db, user.id, archived=include_archived)
        key = (lambda d: d.name.lower()) if sort == "name" else (lambda d: (d.created_at, d.id))
        found.sort(key=key, reverse=sort_direction.upper() == "DESCENDING")
        page = found[start : start + page_size]
        more = start + page_size < len(found)
        return {
            "pronunciation_dictionaries": [_metadata(d) for d in page],
            "next_cursor": base64.urlsafe_b64encode(str(start + page_size).encode()).decode() if more else None,
            "has_more": more,
        }


@router.get("/{dictionary_id}")
def get_dictionary(dictionary_id: str, user: ApiUser) -> dict[str, Any]:
    """A dictionary with its latest rules."""
    with session_scope() as db:
        try:
            d = library.find(db, user.id, dictionary_id)
        except library.DictionaryNotFound as exc:
            raise _not_found(exc) from None
        return _metadata(d) | {"rules": [_rule_json(r) for r in d.rules]}


def _change(user_id: uuid.UUID, dictionary_id: str, change) -> dict[str, Any]:  # noqa: ANN001
    with session_scope() as db:
        try:
            d = library.find(db, user_id, dictionary_id)
            change(db, d)
        except library.DictionaryNotFound as exc:
            raise _not_found(exc) from None
        except RuleProblem as exc:
            raise _problem(exc) from None
        return _version(d)


class Update(BaseModel):
    model_config = ConfigDict(extra="ignore")
    name: str | None = Field(None, max_length=1000)
    archived: bool | None = None


@router.patch("/{dictionary_id}")
def update_dictionary(dictionary_id: str, body: Update, user: ApiUser) -> dict[str, Any]:
    """Rename, archive (no longer listed unless ``include_archived``; its locators still work) or unarchive."""
    with session_scope() as db:
        try:
            d = library.find(db, user.id, dictionary_id)
            library.update(db, d, body.name, body.archived)
        except library.DictionaryNotFound as exc:
            raise _not_found(exc) from None
        except RuleProblem as exc:
            raise _problem(exc) from None
        return _metadata(d)


@router.post("/{dictionary_id}/add-rules")
def add_rules(dictionary_id: str, body: Rules, user: ApiUser) -> dict[str, Any]:
    """Add rules (a rule for a string already there replaces it): a new version."""
    return _change(user.id, dictionary_id, lambda db, d: library.add_rules(db, d, body.rules))


@router.post("/{dictionary_id}/remove-rules")
def remove_rules(dictionary_id: str, body: RuleStrings, user: ApiUser) -> dict[str, Any]:
    """Remove the rules for these strings: a new version."""
    return _change(user.id, dictionary_id, lambda db, d: library.remove_rules(db, d, body.rule_strings))


@router.post("/{dictionary_id}/set-rules")
def set_rules(dictionary_id: str, body: Rules, user: ApiUser) -> dict[str, Any]:
    """Replace all the rules: a new version."""
    return _change(user.id, dictionary_id, lambda db, d: library.set_rules(db, d, body.rules))


# A speech request's locators


def _resolve(user_id: uuid.UUID, locators: list[library.Locator]) -> list[dict[str, Any]]:
    with session_scope() as db:
        return library.request_rules(db, user_id, locators)


async def locator_rules(user_id: uuid.UUID, locators: list[Any] | None) -> list[dict[str, Any]]:
    """The rules of a request's ``pronunciation_dictionary_locators`` (Locator models or the
    websocket's dicts), in order; ApiError 400 for a malformed list or more than three, 404 for a
    dictionary or version that is not the user's."""
    if not locators:
        return []
    if not isinstance(locators, list) or len(locators) > MAX_LOCATORS:
        raise ApiError(400, f"pronunciation_dictionary_locators: a list of at most {MAX_LOCATORS}.", "invalid_locators")
    parsed = []
    for item in locators:
        try:
            loc = item if isinstance(item, Locator) else Locator.model_validate(item)
        except ValueError:
            message = "Each locator needs pronunciation_dictionary_id (and may name version_id)."
            raise ApiError(400, message, "invalid_locators") from None
        parsed.append(library.Locator(loc.pronunciation_dictionary_id, loc.version_id))
    try:
        return await asyncio.to_thread(_resolve, user_id, parsed)
    except library.DictionaryNotFound as exc:
        raise _not_found(exc) from None
    except RuleProblem as exc:
        raise _problem(exc) from None
