"""The pack a request speaks with: stock, blended, or a user's fitted pack from the store."""

import numpy as np
import pytest

from studio.storage import LocalStore
from studio.voices import VoiceRecipe
from workers.gpu_tts.voice_packs import PACK_SHAPE, VoicePacks, pack_bytes, pack_from_bytes


@pytest.fixture
def stock() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {v: rng.standard_normal(PACK_SHAPE).astype(np.float32) for v in ("af_heart", "bf_emma", "am_adam")}


@pytest.fixture
def store(tmp_path) -> LocalStore:  # noqa: ANN001
    return LocalStore(tmp_path / "store", secret="s")


def test_a_stock_voice_speaks_with_its_own_pack_and_accent(stock, store) -> None:  # noqa: ANN001
    voice = VoicePacks(stock, store).resolve("bf_emma", None)
    assert voice.lang == "en-gb" and voice.pack is stock["bf_emma"]
    with pytest.raises(ValueError, match="unknown voice"):
        VoicePacks(stock, store).resolve("af_nobody", None)


def test_a_blend_is_the_weighted_sum_of_its_stock_packs(stock, store) -> None:  # noqa: ANN001
    recipe = VoiceRecipe("en-us", blend={"af_heart": 0.6, "bf_emma": 0.4})
    voice = VoicePacks(stock, store).resolve("x" * 20, recipe)
    assert voice.lang == "en-us" and voice.pack.dtype == np.float32 and voice.pack.shape == PACK_SHAPE
    np.testing.assert_allclose(voice.pack, 0.6 * stock["af_heart"] + 0.4 * stock["bf_emma"], rtol=1e-6, atol=1e-6)


def test_a_fitted_pack_comes_from_the_store_once(stock, store) -> None:  # noqa: ANN001
    fitted = stock["am_adam"] * 0.5
    store.put_bytes("voices/c1.npy", pack_bytes(fitted))
    packs = VoicePacks(stock, store)
    recipe = VoiceRecipe("en-us", pack_key="voices/c1.npy")
    first = packs.resolve("y" * 20, recipe)
    np.testing.assert_array_equal(first.pack, fitted)
    store.delete("voices/c1.npy")
    assert packs.resolve("y" * 20, recipe) is first  # cached: made once per process
    packs.forget("voices/c1.npy")
    with pytest.raises(KeyError):  # deleted with its voice
        packs.resolve("y" * 20, recipe)


@pytest.mark.parametrize(
    "bad", [np.zeros((510, 256), np.float32), np.zeros(PACK_SHAPE, np.float64), np.full(PACK_SHAPE, np.nan, np.float32)]
)
def test_only_a_well_formed_pack_is_accepted(bad: np.ndarray) -> None:
    import io

    buffer = io.BytesIO()
    np.save(buffer, bad)
    with pytest.raises(ValueError, match="not a voice pack"):
        pack_from_bytes(buffer.getvalue())
