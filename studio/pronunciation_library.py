"""A user's pronunciation dictionaries in the database: made, listed, changed (each change a new
version) and resolved into the rules a speech request carries. Blocking; the caller's session."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from studio import pronunciation
from studio.models import PronunciationDictionary, PronunciationDictionaryVersion, utcnow
from studio.pronunciation import RuleProblem, plain_text

SITE_DICTIONARY_NAME = "My pronunciations"


class DictionaryNotFound(LookupError):
    """No such dictionary (or version) of this user's; the message says which."""


@dataclass(frozen=True)
class Locator:
    dictionary_id: str
    version_id: str | None = None


def _new_version(db: Session, dictionary: PronunciationDictionary, rules: list[dict[str, Any]]) -> None:
    dictionary.version_id = pronunciation.new_id()
    dictionary.rules = rules
    db.add(PronunciationDictionaryVersion(id=dictionary.version_id, dictionary_id=dictionary.id, rules=rules))


def create(
    db: Session, user_id: uuid.UUID, name: str, rules: Any, description: str = "", on_site: bool = False
) -> PronunciationDictionary:
    """A new dictionary from ``rules`` (checked: RuleProblem)."""
    name = (name or "").strip()
    if not name:
        raise RuleProblem("Give the dictionary a name.")
    if len(name) > pronunciation.MAX_NAME_CHARS:
        raise RuleProblem(f"The name is {len(name)} characters; the limit is {pronunciation.MAX_NAME_CHARS}.")
    plain_text(name, "The name")
    description = (description or "").strip()
    if len(description) > pronunciation.MAX_DESCRIPTION_CHARS:
        raise RuleProblem(f"The description is over {pronunciation.MAX_DESCRIPTION_CHARS} characters.")
    plain_text(description.replace("\n", " ").replace("\r", " ").replace("\t", " "), "The description")
    checked = pronunciation.check_rules(rules, allow_empty=on_site)
    dictionary = PronunciationDictionary(
        id=pronunciation.new_id(), user_id=user_id, name=name, description=description, on_site=on_site,
        version_id=pronunciation.new_id(), rules=checked,
    )  # fmt: skip
    db.add(dictionary)
    db.flush()
    db.add(PronunciationDictionaryVersion(id=dictionary.version_id, dictionary_id=dictionary.id, rules=checked))
    db.flush()
    return dictionary


def owned(db: Session, user_id: uuid.UUID, archived: bool = False) -> list[PronunciationDictionary]:
    """The user's dictionaries, newest first (``archived`` ones too when asked)."""
    query = select(PronunciationDictionary).where(PronunciationDictionary.user_id == user_id)
    if not archived:
        query = query.where(PronunciationDictionary.archived_at.is_(None))
    return list(db.scalars(query.order_by(PronunciationDictionary.created_at.desc(), PronunciationDictionary.id)))


def update(db: Session, dictionary: PronunciationDictionary, name: str | None, archived: bool | None) -> None:
    """Rename, archive (unlisted; its locators still work) or bring back a dictionary."""
    if name is not None:
        name = plain_text(name.strip(), "The name")
        if not name or len(name) > pronunciation.MAX_NAME_CHARS:
            raise RuleProblem(f"The name must be 1 to {pronunciation.MAX_NAME_CHARS} characters.")
        dictionary.name = name
    if archived is not None:
        dictionary.archived_at = (dictionary.archived_at or utcnow()) if archived else None
    db.flush()


def find(db: Session, user_id: uuid.UUID, dictionary_id: str) -> PronunciationDictionary:
    """The user's dictionary, or DictionaryNotFound (another user's too)."""
    dictionary = db.get(PronunciationDictionary, dictionary_id) if pronunciation.is_id(dictionary_id) else None
    if dictionary is None or dictionary.user_id != user_id:
        raise DictionaryNotFound(f"Pronunciation dictionary {dictionary_id!r} not found.")
    return dictionary


def add_rules(db: Session, dictionary: PronunciationDictionary, rules: Any) -> None:
    """Add (or replace, for the same string) rules: a new version."""
    _new_version(db, dictionary, pronunciation.merged(list(dictionary.rules), pronunciation.check_rules(rules)))
    db.flush()


def remove_rules(db: Session, dictionary: PronunciationDictionary, strings: Any) -> None:
    """Drop the rules for these strings: a new version (even if none matched, as ElevenLabs)."""
    if not isinstance(strings, list) or not all(isinstance(s, str) for s in strings):
        raise RuleProblem("“rule_strings” must be a list of the strings whose rules to remove.")
    gone = {s.strip() for s in strings}
    _new_version(db, dictionary, [r for r in dictionary.rules if r["string_to_replace"] not in gone])
    db.flush()


def set_rules(db: Session, dictionary: PronunciationDictionary, rules: Any) -> None:
    _new_version(db, dictionary, pronunciation.check_rules(rules, allow_empty=True))
    db.flush()


def version_rules(db: Session, user_id: uuid.UUID, locator: Locator) -> list[dict[str, Any]]:
    """A locator's rules: the latest when no version is named; DictionaryNotFound if not the user's."""
    dictionary = find(db, user_id, locator.dictionary_id)
    if locator.version_id in (None, "", dictionary.version_id):
        return list(dictionary.rules)
    version = db.get(PronunciationDictionaryVersion, locator.version_id)
    if version is None or version.dictionary_id != dictionary.id:
        raise DictionaryNotFound(
            f"Version {locator.version_id!r} of pronunciation dictionary {locator.dictionary_id!r} not found."
        )
    return list(version.rules)


def request_rules(db: Session, user_id: uuid.UUID, locators: list[Locator]) -> list[dict[str, Any]]:
    """The rules of up to three locators, in order, as a speech request carries them."""
    if len(locators) > pronunciation.MAX_LOCATORS:
        raise RuleProblem(f"At most {pronunciation.MAX_LOCATORS} pronunciation dictionaries per request.")
    rules: list[dict[str, Any]] = []
    for locator in locators:
        rules += version_rules(db, user_id, locator)
    return pronunciation.clip_rules(rules)


# The site's dictionary: one per user, made on its first rule


def site_dictionary(db: Session, user_id: uuid.UUID) -> PronunciationDictionary | None:
    return db.scalar(
        select(PronunciationDictionary)
        .where(
            PronunciationDictionary.user_id == user_id,
            PronunciationDictionary.on_site.is_(True),
            PronunciationDictionary.archived_at.is_(None),
        )
        .order_by(PronunciationDictionary.created_at)
        .limit(1)
    )


def site_rules(db: Session, user_id: uuid.UUID) -> list[dict[str, Any]]:
    """The user's site dictionary's rules as a speech request carries them (none: empty)."""
    dictionary = site_dictionary(db, user_id)
    return pronunciation.clip_rules(list(dictionary.rules)) if dictionary else []


def add_site_rule(db: Session, user_id: uuid.UUID, rule: dict[str, Any]) -> PronunciationDictionary:
    dictionary = site_dictionary(db, user_id) or create(db, user_id, SITE_DICTIONARY_NAME, [], on_site=True)
    add_rules(db, dictionary, [rule])
    return dictionary


def remove_site_rule(db: Session, user_id: uuid.UUID, string: str) -> None:
    if dictionary := site_dictionary(db, user_id):
        remove_rules(db, dictionary, [string])
