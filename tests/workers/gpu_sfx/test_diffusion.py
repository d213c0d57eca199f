"""The diffusers sound-effect engine, on a tiny randomly initialised AudioLDM pipeline built and
saved here, so the real loading (from_pretrained on a local directory) and inference code run.
The audio is noise (random weights); what is checked is the engine's contract."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from workers.gpu_sfx.dsp import SFX_RATE
from workers.gpu_sfx.result import PEAK_CEILING

pytest.importorskip("diffusers")  # an optional engine: only its operators install diffusers


def _byte_symbols() -> list[str]:
    """GPT-2/RoBERTa's byte-level alphabet: each of the 256 bytes as a printable character."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    extra = [b for b in range(256) if b not in printable]
    return [chr(b) for b in printable] + [chr(256 + i) for i in range(len(extra))]


def _tiny_tokenizer(directory: Path):  # noqa: ANN202
    """A byte-level BPE RoBERTa tokenizer over the 256 byte symbols, no merges."""
    from transformers import RobertaTokenizer

    vocab = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3, "<mask>": 4}
    for char in _byte_symbols():
        vocab.setdefault(char, len(vocab))
    (directory / "vocab.json").write_text(json.dumps(vocab))
    (directory / "merges.txt").write_text("#version: 0.2\n")
    return RobertaTokenizer(str(directory / "vocab.json"), str(directory / "merges.txt"), model_max_length=77)


@pytest.fixture(scope="module")
def pipeline_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from diffusers import AudioLDMPipeline, AutoencoderKL, DDIMScheduler, UNet2DConditionModel
    from transformers import ClapTextConfig, ClapTextModelWithProjection, SpeechT5HifiGan, SpeechT5HifiGanConfig

    torch.manual_seed(0)
    work = tmp_path_factory.mktemp("tiny-audioldm")
    unet = UNet2DConditionModel(
        block_out_channels=(8, 16), layers_per_block=1, norm_num_groups=8, sample_size=32, in_channels=4,
        out_channels=4, down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"), cross_attention_dim=(8, 16),
        class_embed_type="simple_projection", projection_class_embeddings_input_dim=8, class_embeddings_concat=True,
    )  # fmt: skip
    vae = AutoencoderKL(
        block_out_channels=[8, 16], in_channels=1, out_channels=1, norm_num_groups=8, latent_channels=4,
        down_block_types=["DownEncoderBlock2D"] * 2, up_block_types=["UpDecoderBlock2D"] * 2,
    )  # fmt: skip
    text_encoder = ClapTextModelWithProjection(
        ClapTextConfig(
            bos_token_id=0,
            eos_token_id=2,
            pad_token_id=1,
            hidden_size=8,
            intermediate_size=37,
            num_attention_heads=1,
            num_hidden_layers=1,
            vocab_size=300,
            projection_dim=8,
            layer_norm_eps=1e-5,
        )  # fmt: skip
    )
    vocoder = SpeechT5HifiGan(
        SpeechT5HifiGanConfig(
            model_in_dim=8,
            sampling_rate=16000,
            upsample_initial_channel=16,
            upsample_rates=[2, 2],
            upsample_kernel_sizes=[4, 4],
            resblock_kernel_sizes=[3, 7],
            resblock_dilation_sizes=[[1, 3, 5], [1, 3, 5]],
            normalize_before=False,
        )  # fmt: skip
    )
    scheduler = DDIMScheduler(
        beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", clip_sample=False, set_alpha_to_one=False
    )
    pipe = AudioLDMPipeline(
        vae=vae, text_encoder=text_encoder, tokenizer=_tiny_tokenizer(work), unet=unet, scheduler=scheduler,
        vocoder=vocoder,
    )  # fmt: skip
    saved = work / "pipeline"
    pipe.save_pretrained(saved)
    return saved


def test_loads_a_saved_pipeline_and_makes_exact_length_variations(pipeline_dir: Path) -> None:
    from workers.gpu_sfx.diffusion import DiffusersEngine

    engine = DiffusersEngine(pipeline_dir, "cpu", steps=2)
    assert engine.pipeline_class == "AudioLDMPipeline" and engine.model_rate == 16000
    result = engine.generate("rain on a tin roof", 1.5, 0.5, seed=3, variations=2)
    assert len(result.variations) == 2 and result.sample_rate == SFX_RATE
    for audio in result.variations:
        assert audio.dtype == np.float32 and len(audio) == int(1.5 * SFX_RATE)
        assert np.isfinite(audio).all() and np.max(np.abs(audio)) <= PEAK_CEILING + 1e-6
    again = engine.generate("rain on a tin roof", 1.5, 0.5, seed=3, variations=2)
    assert np.array_equal(result.variations[0], again.variations[0])  # same seed, same sound
    other = engine.generate("rain on a tin roof", 1.5, 0.5, seed=4, variations=1)
    assert not np.allclose(result.variations[0], other.variations[0])


def test_refuses_a_directory_of_another_pipeline_kind(tmp_path: Path) -> None:
    from workers.gpu_sfx.diffusion import DiffusersEngine

    (tmp_path / "model_index.json").write_text(json.dumps({"_class_name": "StableDiffusionPipeline"}))
    with pytest.raises(ValueError, match="supported"):
        DiffusersEngine(tmp_path, "cpu")
