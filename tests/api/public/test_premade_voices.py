"""ElevenLabs' premade voice ids (``studio.premade_voices``): the table itself, and the official
``elevenlabs`` SDK using a hard-coded premade id against the real app: it speaks (real Kokoro, real
workers) in the mapped studio voice; an unknown id is a clear 404; a user's own voice wins."""

import asyncio
import json
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
import websockets
from elevenlabs.client import AsyncElevenLabs
from elevenlabs.core.api_error import ApiError as SdkError
from sqlalchemy import select, update

from activities.worker import build_worker
from api.public.elevenlabs_routes import speaking_voice
from studio import api_keys
from studio.audio import decode
from studio.db import session_scope
from studio.kinds import ClipKind
from studio.models import Clip, CustomVoice, User
from studio.premade_voices import PREMADE_VOICES
from studio.settings import get_settings
from studio.storage import get_store
from studio.voices import VOICES, is_custom_voice_id
from temporal import queues
from temporal.client import connect
from tests import services
from tests.api.routers.test_clips import user_by_email_fragment
from tests.api.routers.test_voices import blend, new_voice_id
from tests.conftest import API_TEST_NAMESPACE, make_clip, make_user, reset_caches
from tests.site import create_key, sign_up
from workers.gpu_tts.activities import TtsActivities
from workers.gpu_tts.engine import KokoroEngine, tts_engine
from workers.gpu_tts.speech_session import session_worker
from workers.gpu_worker import WorkerContext, gpu_temporal_workers

RACHEL, ADAM = "21m00Tcm4TlvDq8ikWAM", "pNInz6obpgDQGcFmaJgB"
UNKNOWN = "ZZZZzzzzZZZZzzzzZZZZ"  # 20 letters, as an ElevenLabs id, and in no table


# The table alone


def test_every_premade_maps_to_a_studio_voice_of_its_gender_and_accent() -> None:
    british = {"British", "Irish", "Australian"}
    american = {"American", "American (South)", "Transatlantic"}
    assert len(PREMADE_VOICES) >= 50
    for voice_id, premade in PREMADE_VOICES.items():
        assert voice_id == premade.voice_id and is_custom_voice_id(voice_id), premade  # ElevenLabs' id shape
        assert premade.studio_voice in VOICES, premade
        assert premade.voice.gender.lower() == premade.gender, premade
        assert premade.age in {"young", "middle-aged", "old"}, premade
        if premade.accent in british:
            assert premade.voice.accent == "British", premade
        elif premade.accent in american:
            assert premade.voice.accent == "American", premade
    names = {p.name: p.studio_voice for p in PREMADE_VOICES.values() if not p.legacy}
    assert names["Sarah"] == "af_sarah" and names["Daniel"] == "bm_daniel" and names["George"] == "bm_george"
    assert PREMADE_VOICES[RACHEL].studio_voice == "af_heart" and PREMADE_VOICES[ADAM].studio_voice == "am_adam"


# The routes in-process (no GPU workers): voices, 404s, the user's own voice first


@pytest.fixture
async def api(site: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch) -> tuple[httpx.AsyncClient, User, str, str]:
    monkeypatch.setenv("STUDIO_RATE_LIMIT_PER_MINUTE", "30")
    get_settings.cache_clear()
    token = await sign_up(site)
    user = user_by_email_fragment((await site.get("/tts")).text)
    return site, user, await create_key(site), token


async def test_premade_ids_are_voices_but_not_listed(api) -> None:  # noqa: ANN001
    site, user, key, _ = api
    sdk = AsyncElevenLabs(api_key=key, base_url=str(site.base_url), httpx_client=site)
    rachel = await sdk.voices.get(voice_id=RACHEL)
    assert rachel.voice_id == RACHEL and rachel.name == "Heart" and rachel.category == "premade"
    assert "Rachel" in rachel.description and "af_heart" in rachel.description and "not the same" in rachel.description
    assert rachel.labels["gender"] == "female"
    listed = {v.voice_id for v in (await sdk.voices.get_all()).voices}
    assert len(listed) == 28 and not listed & set(PREMADE_VOICES)  # the list stays the studio's own
    assert await speaking_voice(user, ADAM) == "am_adam"

    with pytest.raises(SdkError) as caught:
        await sdk.voices.get(voice_id=UNKNOWN)
    assert caught.value.status_code == 404
    detail = caught.value.body["detail"]
    assert detail["status"] == "voice_not_found" and UNKNOWN in detail["message"] and "/v1/voices" in detail["message"]
    for path in (f"/v1/text-to-speech/{UNKNOWN}", f"/v1/text-to-speech/{UNKNOWN}/stream"):
        resp = await site.post(path, json={"text": "hi"}, headers={"xi-api-key": key})
        assert resp.status_code == 404 and UNKNOWN in resp.json()["detail"]["message"], resp.text
    sts = await site.post(f"/v1/speech-to-speech/{UNKNOWN}", files={"audio": ("a.wav", b"RIFF", "audio/wav")},
                          headers={"xi-api-key": key})  # fmt: skip
    assert sts.status_code == 404 and sts.json()["detail"]["status"] == "voice_not_found"
    # an alias is not the user's to edit or delete
    assert (await site.delete(f"/v1/voices/{RACHEL}", headers={"xi-api-key": key})).status_code == 404
    with session_scope() as s:
        assert not list(s.scalars(select(Clip).where(Clip.user_id == user.id)))  # nothing admitted or charged


async def test_a_users_own_voice_wins_over_a_premade_id(api) -> None:  # noqa: ANN001
    site, user, key, token = api
    own_id = new_voice_id(await blend(site, token, name="My Rachel", description=""))
    with session_scope() as s:  # cannot happen by chance (20 random characters); forced here
        s.execute(update(CustomVoice).where(CustomVoice.id == own_id).values(id=RACHEL))
    mine = (await site.get(f"/v1/voices/{RACHEL}", headers={"xi-api-key": key})).json()
    assert mine["name"] == "My Rachel" and mine["is_owner"] and mine["category"] == "generated"
    assert await speaking_voice(user, RACHEL) == RACHEL  # spoken as the user's blend, not af_heart
    assert await speaking_voice(make_user(), RACHEL) == "af_heart"  # anyone else gets the alias


async def test_history_filtered_by_a_premade_id_finds_its_studio_voices_clips(api) -> None:  # noqa: ANN001
    site, user, key, _ = api
    heart, adam = make_clip(user, text="Spoken by af_heart."), make_clip(user, text="Spoken by am_adam.")
    with session_scope() as s:
        s.execute(update(Clip).where(Clip.id == adam.id).values(voice="am_adam"))
    for voice_id, expected in ((RACHEL, {heart.id}), (ADAM, {adam.id}), ("af_heart", {heart.id}), (UNKNOWN, set())):
        found = (await site.get("/v1/history", params={"voice_id": voice_id}, headers={"xi-api-key": key})).json()
        assert {item["history_item_id"] for item in found["history"]} == {str(i) for i in expected}, voice_id


# The official SDK against the app under uvicorn with the real workers and Kokoro


@pytest.fixture(scope="module")
def engine() -> KokoroEngine:
    return tts_engine()


@dataclass
class Served:
    url: str
    user: User
    key: str


@pytest.fixture
async def served(
    sqlite_url: str, temporal_dev: str, engine: KokoroEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Served]:
    for name, value in {
        "STUDIO_DATABASE_URL": sqlite_url, "STUDIO_VAR_DIR": str(tmp_path), "STUDIO_STORAGE_BACKEND": "local",
        "STUDIO_TEMPORAL_ADDRESS": temporal_dev, "STUDIO_TEMPORAL_NAMESPACE": API_TEST_NAMESPACE,
    }.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    reset_caches()
    from api.main import create_app

    port = services.free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning"))
    serving = asyncio.create_task(server.serve())
    client = await connect()
    user = make_user(credits=1000)
    with session_scope() as db:
        _, key = api_keys.create_key(db, db.get(User, user.id), "sdk")
    ctx = WorkerContext(tmp_path / "spool", queues.worker_local_queue("gpu-tts"), get_store(), client)
    with ThreadPoolExecutor(16) as executor:
        tts = gpu_temporal_workers(ClipKind.TTS, TtsActivities(engine, ctx), executor, 4)
        async with build_worker(client, executor), tts[0], tts[1], session_worker(engine, ctx, executor, 4):
            while not server.started:
                await asyncio.sleep(0.05)
            yield Served(f"http://127.0.0.1:{port}", user, key)
    server.should_exit = True
    await serving
    reset_caches()


async def test_the_sdk_speaks_a_premade_id_in_the_mapped_voice(served: Served) -> None:
    sdk = AsyncElevenLabs(api_key=served.key, base_url=served.url)
    audio = b"".join(
        [
            chunk
            async for chunk in sdk.text_to_speech.convert(
                voice_id=RACHEL,
                text="Hello from Rachel's stand-in.",
                model_id="eleven_multilingual_v2",
                output_format="mp3_44100_128",
            )  # fmt: skip
        ]
    )
    samples, rate = decode(audio)
    assert rate == 44_100 and len(samples) / rate > 0.8
    item = (await sdk.history.list(page_size=1)).history[0]
    assert item.voice_id == "af_heart" and item.voice_name == "Heart" and item.text == "Hello from Rachel's stand-in."
    with session_scope() as s:
        clip = s.scalar(select(Clip).where(Clip.user_id == served.user.id))
        assert clip.voice == PREMADE_VOICES[RACHEL].studio_voice and clip.kind is ClipKind.TTS

    with pytest.raises(SdkError) as caught:  # through the SDK too: a clear 404, not a hang
        async for _ in sdk.text_to_speech.convert(voice_id=UNKNOWN, text="Nobody."):
            pass
    assert caught.value.status_code == 404 and UNKNOWN in caught.value.body["detail"]["message"]


async def test_the_stream_input_websocket_takes_a_premade_id(served: Served) -> None:
    url = f"ws://{served.url.removeprefix('http://')}/v1/text-to-speech/{ADAM}/stream-input?output_format=pcm_24000"
    async with websockets.connect(url, additional_headers={"xi-api-key": served.key}) as ws:
        for message in ({"text": " "}, {"text": "Adam's stand-in speaks. ", "flush": True}, {"text": ""}):
            await ws.send(json.dumps(message))
        answers = [json.loads(m) async for m in ws]
    assert answers[-1] == {"isFinal": True} and any(a.get("audio") for a in answers), answers
    with session_scope() as s:
        clip = s.scalar(select(Clip).where(Clip.user_id == served.user.id))
        assert clip.voice == "am_adam" and clip.settings["session"] is True
