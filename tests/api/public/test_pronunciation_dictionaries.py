"""Pronunciation dictionaries through the official ``elevenlabs`` SDK (unchanged) against the real
app: made from rules, listed page by page, read, rules added and removed (a new version each), and
``pronunciation_dictionary_locators`` on text to speech and the websocket resolved into the rules
the clip carries, the user's own dictionaries only. The site's page edits the user's dictionary,
which their text to speech on the site then carries. Last, with real workers and Kokoro: a
dictionary named by the SDK changes what is heard."""

import base64

import httpx
import numpy as np
import pytest
import websockets
from elevenlabs.client import AsyncElevenLabs
from elevenlabs.core.api_error import ApiError as SdkError
from elevenlabs.pronunciation_dictionaries import (
    BodyAddAPronunciationDictionaryV1PronunciationDictionariesAddFromRulesPostRulesItem_Alias as Alias,
)
from elevenlabs.pronunciation_dictionaries import (
    BodyAddAPronunciationDictionaryV1PronunciationDictionariesAddFromRulesPostRulesItem_Phoneme as Phoneme,
)
from elevenlabs.pronunciation_dictionaries.rules import PronunciationDictionaryRule_Alias as AddedAlias
from elevenlabs.types import PronunciationDictionaryVersionLocator as SdkLocator
from sqlalchemy import select

from studio.audio import decode
from studio.db import session_scope
from studio.models import Clip, User
from studio.pronunciation import PRONUNCIATION_RULES
from studio.settings import get_settings
from temporal.client import connect
from tests.api.public.test_premade_voices import Served, engine, served  # noqa: F401 (fixtures)
from tests.api.public.test_stream_input import Live, converse, live  # noqa: F401 (fixtures)
from tests.api.routers.test_clips import user_by_email_fragment
from tests.site import create_key, sign_up
from tests.speech import transcribe

NGINX = Alias(string_to_replace="Nginx", alias="engine x")
TOMATO = Phoneme(string_to_replace="tomato", phoneme="T AH0 M AA1 T OW0", alphabet="cmu-arpabet")
CAT_IS_DOG = {"type": "phoneme", "string_to_replace": "cat", "phoneme": "dˈɑːɡ", "alphabet": "ipa"}


@pytest.fixture
async def api(site: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch) -> tuple[httpx.AsyncClient, User, str, str]:
    monkeypatch.setenv("STUDIO_RATE_LIMIT_PER_MINUTE", "30")
    monkeypatch.setenv("STUDIO_API_TIMEOUT_SECONDS", "0.5")  # no TTS worker here: a call gives up at once
    get_settings.cache_clear()
    token = await sign_up(site)
    user = user_by_email_fragment((await site.get("/tts")).text)
    return site, user, await create_key(site), token


def sdk_for(site: httpx.AsyncClient, key: str) -> AsyncElevenLabs:
    return AsyncElevenLabs(api_key=key, base_url=str(site.base_url), httpx_client=site)


async def test_the_sdk_makes_lists_reads_and_changes_dictionaries(api) -> None:  # noqa: ANN001
    site, user, key, _ = api
    sdk = sdk_for(site, key)
    made = await sdk.pronunciation_dictionaries.create_from_rules(
        rules=[NGINX, TOMATO], name="Tech words", description="names we say our way"
    )
    assert len(made.id) == 20 and made.version_rules_num == 2 and made.created_by == str(user.id)
    got = await sdk.pronunciation_dictionaries.get(made.id)
    assert got.name == "Tech words" and got.latest_version_id == made.version_id and got.description
    assert [(r.type, r.string_to_replace) for r in got.rules] == [("alias", "Nginx"), ("phoneme", "tomato")]
    assert got.rules[1].alphabet == "cmu-arpabet" and got.rules[0].case_sensitive is True

    more = [
        AddedAlias(string_to_replace="Nginx", alias="N G I N X"),
        AddedAlias(string_to_replace="k8s", alias="kubernetes"),
    ]
    added = await sdk.pronunciation_dictionaries.rules.add(made.id, rules=more)
    assert added.version_id != made.version_id and added.version_rules_num == 3  # Nginx's rule replaced
    removed = await sdk.pronunciation_dictionaries.rules.remove(made.id, rule_strings=["tomato"])
    assert removed.version_id not in (made.version_id, added.version_id) and removed.version_rules_num == 2
    got = await sdk.pronunciation_dictionaries.get(made.id)
    assert {r.string_to_replace: r.alias for r in got.rules} == {"Nginx": "N G I N X", "k8s": "kubernetes"}

    for n in range(3):
        await sdk.pronunciation_dictionaries.create_from_rules(rules=[NGINX], name=f"more {n}")
    first = await sdk.pronunciation_dictionaries.list(page_size=3)
    assert len(first.pronunciation_dictionaries) == 3 and first.has_more and first.next_cursor
    rest = await sdk.pronunciation_dictionaries.list(page_size=3, cursor=first.next_cursor)
    assert len(rest.pronunciation_dictionaries) == 1 and not rest.has_more and rest.next_cursor is None
    names = [d.name for d in first.pronunciation_dictionaries + rest.pronunciation_dictionaries]
    assert names == ["more 2", "more 1", "more 0", "Tech words"]  # newest first
    by_name = await sdk.pronunciation_dictionaries.list(sort="name", sort_direction="ASCENDING")
    assert [d.name for d in by_name.pronunciation_dictionaries][0] == "more 0"

    # renamed and archived: no longer listed (unless asked), still there by id
    renamed = await sdk.pronunciation_dictionaries.update(made.id, name="Tech", archived=True)
    assert renamed.name == "Tech" and renamed.archived_time_unix
    listed = (await sdk.pronunciation_dictionaries.list()).pronunciation_dictionaries
    assert made.id not in {d.id for d in listed} and len(listed) == 3
    every = (await sdk.pronunciation_dictionaries.list(include_archived=True)).pronunciation_dictionaries
    assert made.id in {d.id for d in every}
    assert (await sdk.pronunciation_dictionaries.get(made.id)).archived_time_unix == renamed.archived_time_unix
    assert (await sdk.pronunciation_dictionaries.update(made.id, archived=False)).archived_time_unix is None

    # another user's dictionaries are not there for them
    other_site = httpx.AsyncClient(transport=site._transport, base_url=site.base_url)
    await sign_up(other_site)
    other = sdk_for(other_site, await create_key(other_site))
    with pytest.raises(SdkError) as caught:
        await other.pronunciation_dictionaries.get(made.id)
    assert caught.value.status_code == 404 and made.id in caught.value.body["detail"]["message"]
    assert (await other.pronunciation_dictionaries.list()).pronunciation_dictionaries == []


async def test_bad_rules_are_clear_refusals(api) -> None:  # noqa: ANN001
    site, _, key, _ = api
    sdk = sdk_for(site, key)
    cases = [
        ([Phoneme(string_to_replace="hi", phoneme="h3llo", alphabet="ipa")], "Kokoro cannot say"),
        ([Phoneme(string_to_replace="hi", phoneme="HH AY9", alphabet="cmu-arpabet")], "not a CMU ARPAbet phoneme"),
        ([Phoneme(string_to_replace="hi", phoneme="haɪ", alphabet="x-sampa")], "ipa or cmu-arpabet"),
        ([Alias(string_to_replace="x" * 150, alias="y")], "the limit is 100"),
        ([], "at least one rule"),
    ]
    for rules, message in cases:
        with pytest.raises(SdkError) as caught:
            await sdk.pronunciation_dictionaries.create_from_rules(rules=rules, name="bad")
        assert caught.value.status_code == 400 and message in caught.value.body["detail"]["message"], caught.value.body
    with pytest.raises(SdkError) as caught:  # a NUL cannot be stored (PostgreSQL): a 400, not a 500
        await sdk.pronunciation_dictionaries.create_from_rules(rules=[NGINX], name="bad\x00name")
    assert caught.value.status_code == 400 and "control characters" in caught.value.body["detail"]["message"]
    with pytest.raises(SdkError) as caught:
        await sdk.pronunciation_dictionaries.rules.remove("ZZZZzzzzZZZZzzzzZZZZ", rule_strings=["x"])
    assert caught.value.status_code == 404


async def test_locators_put_the_rules_into_the_clip(api) -> None:  # noqa: ANN001
    site, user, key, token = api
    sdk = sdk_for(site, key)
    first = await sdk.pronunciation_dictionaries.create_from_rules(rules=[NGINX], name="one")
    second = await sdk.pronunciation_dictionaries.create_from_rules(rules=[TOMATO], name="two")
    await sdk.pronunciation_dictionaries.rules.add(
        first.id, rules=[AddedAlias(string_to_replace="Nginx", alias="engine ex")]
    )
    headers = {"xi-api-key": key}

    def body(*locators: dict) -> dict:
        return {"text": "Nginx serves a tomato.", "pronunciation_dictionary_locators": list(locators)}

    latest = {"pronunciation_dictionary_id": first.id}
    old = {"pronunciation_dictionary_id": first.id, "version_id": first.version_id}
    tomato = {"pronunciation_dictionary_id": second.id, "version_id": second.version_id}
    for path in ("", "/stream", "/with-timestamps", "/stream/with-timestamps"):
        resp = await site.post(f"/v1/text-to-speech/af_heart{path}", json=body(latest, tomato), headers=headers)
        assert resp.status_code in (200, 504), resp.text  # admitted and started; no worker answers here
    resp = await site.post("/v1/text-to-speech/af_heart", json=body(old), headers=headers)
    for bad, status, fragment in (
        (body({"pronunciation_dictionary_id": "ZZZZzzzzZZZZzzzzZZZZ"}), 404, "not found"),
        (body({"pronunciation_dictionary_id": first.id, "version_id": "nope"}), 404, "Version 'nope'"),
        (body(latest, latest, latest, latest), 400, "at most 3"),
    ):
        resp = await site.post("/v1/text-to-speech/af_heart", json=bad, headers=headers)
        assert resp.status_code == status and fragment in resp.json()["detail"]["message"], resp.text

    # the site: the user's own dictionary, applied to their text to speech there
    page = await site.post(
        "/pronunciation/rules", data={"word": "cat", "kind": "phoneme", "said": "ˈdɑːɡ", "csrf_token": token}
    )
    assert page.status_code == 303 and page.headers["location"] == "/pronunciation#rules"
    await site.post("/tts", data={"text": "The cat sat.", "voice": "af_heart", "speed": "1", "csrf_token": token})

    with session_scope() as s:
        clips = list(s.scalars(select(Clip).where(Clip.user_id == user.id).order_by(Clip.created_at)))
    rules = [c.settings.get(PRONUNCIATION_RULES) for c in clips]
    assert len(rules) == 6
    flags = {"case_sensitive": True, "word_boundaries": True}
    both = [
        {"type": "alias", "string_to_replace": "Nginx", "alias": "engine ex"} | flags,
        {"type": "phoneme", "string_to_replace": "tomato", "phoneme": "təmˈɑtO"} | flags,
    ]
    assert rules[:4] == [both] * 4 and rules[4] == [dict(both[0], alias="engine x")]  # the old version's rule
    assert rules[5] == [{"type": "phoneme", "string_to_replace": "cat", "phoneme": "dˈɑːɡ",
                         "case_sensitive": True, "word_boundaries": True}]  # fmt: skip
    client = await connect()
    for clip in clips:
        try:
            await client.get_workflow_handle(clip.workflow_id).terminate("test over")
        except Exception:  # noqa: BLE001, S110 (already over)
            pass


async def test_the_site_page_lists_adds_and_removes_rules(api) -> None:  # noqa: ANN001
    site, user, key, token = api
    page = await site.get("/pronunciation")
    assert page.status_code == 200 and "No rules yet." in page.text
    resp = await site.post(
        "/pronunciation/rules", data={"word": "Nginx", "kind": "alias", "said": "engine x", "csrf_token": token}
    )
    assert resp.status_code == 303
    page = await site.get("/pronunciation")
    assert "“Nginx” added" in page.text and "“engine x”" in page.text
    assert "“Nginx” added" not in (await site.get("/pronunciation")).text  # the message shows once
    bad = await site.post(
        "/pronunciation/rules", data={"word": "hi", "kind": "phoneme", "said": "h3llo", "csrf_token": token}
    )
    assert bad.status_code == 422 and "Kokoro cannot say" in bad.text and 'value="h3llo"' in bad.text
    assert "Rule 1" not in bad.text
    listed = (await sdk_for(site, key).pronunciation_dictionaries.list()).pronunciation_dictionaries
    assert [d.name for d in listed] == ["My pronunciations"] and listed[0].latest_version_rules_num == 1
    resp = await site.post("/pronunciation/rules/remove", data={"word": "Nginx", "csrf_token": token})
    assert resp.status_code == 303
    page = await site.get("/pronunciation")
    assert "“Nginx” removed." in page.text and "No rules yet." in page.text
    assert (await site.post("/pronunciation/rules", data={"word": "x", "said": "y"})).status_code == 403  # CSRF


# With real workers and Kokoro


async def test_a_dictionary_named_by_the_sdk_changes_what_is_heard(served: Served) -> None:  # noqa: F811
    sdk = AsyncElevenLabs(api_key=served.key, base_url=served.url)
    made = await sdk.pronunciation_dictionaries.create_from_rules(rules=[Phoneme(**CAT_IS_DOG)], name="pets")
    audio = b"".join([
        chunk async for chunk in sdk.text_to_speech.convert(
            voice_id="af_heart", text="The cat barked at the mailman.", output_format="wav_24000",
            pronunciation_dictionary_locators=[SdkLocator(pronunciation_dictionary_id=made.id)],
        )
    ])  # fmt: skip
    samples, rate = decode(audio)
    heard = transcribe(samples, rate)
    assert "dog" in heard and "cat" not in heard, heard


async def test_the_websockets_first_message_names_dictionaries(live: Live) -> None:  # noqa: F811
    with session_scope() as db:
        from studio import pronunciation_library

        made = pronunciation_library.create(db, live.user.id, "pets", [CAT_IS_DOG])
        made_id = made.id
    url = f"{live.url}/af_heart/stream-input?output_format=pcm_24000"
    first = {"text": " ", "pronunciation_dictionary_locators": [{"pronunciation_dictionary_id": made_id}]}
    async with websockets.connect(url, additional_headers={"xi-api-key": live.key}) as ws:
        answers = await converse(ws, [first, {"text": "The cat barked at the mailman. "}, {"text": ""}])
    with session_scope() as s:
        clip = s.scalar(select(Clip).where(Clip.user_id == live.user.id))
        assert clip.settings[PRONUNCIATION_RULES][0]["phoneme"] == "dˈɑːɡ"
    pcm = b"".join(base64.b64decode(a["audio"]) for a in answers if a.get("audio"))
    heard = transcribe(np.frombuffer(pcm, "<i2").astype(np.float32) / 32768, 24_000)
    assert "dog" in heard and "cat" not in heard, heard
    bad = {"text": " ", "pronunciation_dictionary_locators": [{"pronunciation_dictionary_id": "ZZZZzzzzZZZZzzzzZZZZ"}]}
    async with websockets.connect(url, additional_headers={"xi-api-key": live.key}) as ws:
        answers = await converse(ws, [bad])
    assert "not found" in answers[-1]["message"], answers
