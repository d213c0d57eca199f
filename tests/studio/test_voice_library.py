"""A user's own voices: private to them, ready when their design clip is, and made by their recipe."""

import uuid

import pytest

from studio import voice_library
from studio.db import session_scope
from studio.models import Clip, ClipKind, CustomVoice, User, VoiceCategory, workflow_id_for
from studio.stages import ClipStatus
from studio.storage import ClipObjects
from studio.voices import new_custom_voice_id
from tests.conftest import make_user

pytestmark = pytest.mark.usefixtures("studio_env")


def make_voice(user: User, category: VoiceCategory, status: ClipStatus, name: str = "Grandma") -> CustomVoice:
    """A voice and its design clip, as ``api.generation`` records them."""
    clip_id = uuid.uuid4()
    voice_id = new_custom_voice_id()
    blend = {"af_heart": 0.6, "bf_emma": 0.4} if category is VoiceCategory.BLEND else None
    method = "blend" if blend else "fit"
    with session_scope() as db:
        db.add(Clip(
            id=clip_id, user_id=user.id, kind=ClipKind.VOICE_DESIGN, text=name, voice=voice_id,
            settings={"method": method}, status=status, cost=0, workflow_id=workflow_id_for(clip_id),
            error="Only silence." if status is ClipStatus.FAILED else None,
        ))  # fmt: skip
        db.flush()
        voice = CustomVoice(
            id=voice_id, user_id=user.id, name=name, description="", labels={}, category=category, lang="en-us",
            blend=blend, design_clip_id=clip_id,
        )  # fmt: skip
        db.add(voice)
    return voice


def own(user: User, voice_id: str) -> voice_library.OwnVoice:
    with session_scope() as db:
        return voice_library.find_voice(db, user.id, voice_id)


def test_a_voice_is_found_only_by_its_owner() -> None:
    alice, bob = make_user(), make_user()
    voice = make_voice(alice, VoiceCategory.CLONED, ClipStatus.SUCCEEDED)
    assert own(alice, voice.id).voice.name == "Grandma"
    with pytest.raises(voice_library.VoiceNotFound):
        own(bob, voice.id)
    with session_scope() as db:
        assert [v.id for v in voice_library.user_voices(db, alice.id)] == [voice.id]
        assert voice_library.user_voices(db, bob.id) == []
        with pytest.raises(voice_library.VoiceNotFound):
            voice_library.delete_voice(db, bob.id, voice.id)
        with pytest.raises(voice_library.VoiceNotFound):
            voice_library.rename_voice(db, bob.id, voice.id, "Mine now")


@pytest.mark.parametrize(
    ("status", "state"),
    [
        (ClipStatus.QUEUED, "fitting"),
        (ClipStatus.RUNNING, "fitting"),
        (ClipStatus.SUCCEEDED, "ready"),
        (ClipStatus.FAILED, "failed"),
        (ClipStatus.CANCELLED, "failed"),
    ],
)
def test_a_fitted_voice_is_as_ready_as_its_design_clip(status: ClipStatus, state: str) -> None:
    user = make_user()
    found = own(user, make_voice(user, VoiceCategory.CLONED, status).id)
    assert found.state == state
    if state == "ready":
        recipe = found.recipe()
        assert recipe.pack_key == ClipObjects.of(found.clip).voice_pack and recipe.blend is None
        assert found.preview_key == ClipObjects.of(found.clip).audio(".mp3")
    else:
        reason = "still being made" if state == "fitting" else "could not"
        with pytest.raises(voice_library.VoiceNotReady, match=reason):
            found.recipe()
        assert found.preview_key is None


def test_a_blend_speaks_at_once_while_its_preview_renders() -> None:
    user = make_user()
    found = own(user, make_voice(user, VoiceCategory.BLEND, ClipStatus.RUNNING).id)
    assert found.state == "ready" and found.preview_key is None
    assert found.recipe().blend == {"af_heart": 0.6, "bf_emma": 0.4}


def test_a_fitted_voice_outlives_its_design_clip_in_the_history() -> None:
    user = make_user()
    voice = make_voice(user, VoiceCategory.CLONED, ClipStatus.SUCCEEDED)
    pack_key = own(user, voice.id).pack_key
    with session_scope() as db:
        db.delete(db.get(Clip, voice.design_clip_id))
    found = own(user, voice.id)
    assert found.clip is None and found.state == "ready"
    assert found.recipe().pack_key == pack_key  # the pack is the voice's, not the clip's


def test_rename_and_delete() -> None:
    user = make_user()
    voice = make_voice(user, VoiceCategory.BLEND, ClipStatus.SUCCEEDED)
    with session_scope() as db:
        voice_library.rename_voice(db, user.id, voice.id, "  Narrator  ", "Warm and slow")
    assert (own(user, voice.id).voice.name, own(user, voice.id).voice.description) == ("Narrator", "Warm and slow")
    with session_scope() as db:
        assert voice_library.count_voices(db, user.id) == 1
        voice_library.delete_voice(db, user.id, voice.id)
    with pytest.raises(voice_library.VoiceNotFound):
        own(user, voice.id)
    with session_scope() as db:  # the clip that made it stays in the history
        assert db.get(Clip, voice.design_clip_id) is not None


@pytest.mark.parametrize(("status", "voice_stays"), [(ClipStatus.SUCCEEDED, True), (ClipStatus.FAILED, False)])
def test_deleting_a_design_clip_keeps_only_a_voice_it_made(status: ClipStatus, voice_stays: bool, tmp_path) -> None:  # noqa: ANN001
    from studio.clips import delete_clip
    from studio.storage import LocalStore

    user = make_user()
    voice = make_voice(user, VoiceCategory.CLONED, status)
    with session_scope() as db:
        delete_clip(db, db.get(Clip, voice.design_clip_id), LocalStore(tmp_path, "s"))
    with session_scope() as db:
        assert (db.get(CustomVoice, voice.id) is not None) == voice_stays
