"""One settings object, read from ``STUDIO_*`` environment variables, with embedded defaults.

Every process (site, orchestration worker, GPU workers, tests) reads the same class, so a
deployment is configured in one place.
"""

import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent


# Secrets that once shipped as defaults: refused, since cookies signed with them can be forged.
PUBLISHED_SECRETS = frozenset({"dev-insecure-secret-change-me"})
MIN_PRODUCTION_SECRET_CHARS = 32


def load_or_create_secret(path: Path) -> str:
    """This installation's random secret: read it, or create it atomically (first process wins)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        tmp.write_text(secrets.token_urlsafe(48))
        tmp.chmod(0o600)
        try:
            os.link(tmp, path)  # fails if another process created it first; theirs is kept
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text().strip()


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="STUDIO_", extra="ignore")

    # Where state lives on a dev machine: SQLite file, local objects, Temporal's DB, model files.
    var_dir: Path = ROOT / "var"

    database_url: str = ""  # empty: SQLite under var_dir

    # Site
    public_url: str = "http://127.0.0.1:8000"
    # Signs session cookies and local media links. Empty: a random key made on first start and
    # kept in var_dir/secret_key (every process on this machine reads the same file).
    secret_key: str = ""
    # None means: secure cookies exactly when public_url is https.
    cookie_secure: bool | None = None

    # How long scripts/start waits for the Temporal dev server and the site to listen while
    # their processes are alive (a busy machine can be slow to import everything).
    start_timeout_seconds: float = 180

    # Temporal
    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    temporal_ui_url: str = "http://127.0.0.1:8233"
    # Who sees each clip's "Workflow in Temporal" link (comma-separated e-mails, any case). The Temporal
    # Web UI shows every user's text, so only operators get the link; docs/operators.md says how to put
    # the UI itself behind authentication (the link alone protects nothing).
    operator_emails: Annotated[list[str], NoDecode] = []

    # Credits and limits (seed values)
    signup_credits: int = 10_000
    price_per_generation: int = 50
    rate_limit_per_minute: int = 3
    max_text_chars: int = 5_000
    api_timeout_seconds: float = 300  # how long a public-API call waits for its generation

    # Sign-in throttling (per site process): failures allowed per account e-mail and per client
    # address within the window before further attempts get a 429.
    login_max_failures: int = 5
    login_max_failures_per_ip: int = 20
    login_window_seconds: float = 15 * 60

    # Object store
    storage_backend: Literal["local", "s3"] = "local"
    s3_endpoint_url: str | None = None
    s3_region: str = "us-east-1"
    s3_bucket: str = "studio"
    s3_prefix: str = ""
    s3_access_key: str | None = None
    s3_secret_key: str | None = None
    link_ttl_seconds: int = 3600

    # GPU workers: audio each one made, kept on its machine until uploaded (a folder per kind);
    # default var_dir/spool
    spool_dir: Path = Field(default_factory=lambda fields: fields["var_dir"] / "spool")

    # TTS worker
    tts_engine: Literal["auto", "onnx", "torch"] = "auto"  # auto: torch on CUDA, else int8 ONNX
    tts_device: Literal["auto", "cpu", "cuda"] = "auto"
    tts_precision: Literal["fp32", "bf16", "fp16"] = "fp32"  # torch on CUDA: autocast dtype
    tts_compile: bool = True  # torch on CUDA: fuse norm/activation passes with torch.compile
    tts_max_batch: int = 64  # utterances per forward pass (torch engine)
    tts_batch_window_ms: float = 5  # under load, wait this long for more utterances to batch
    tts_infer_threads: int = 1  # batching loops sharing the GPU (each its own CUDA stream)
    tts_max_concurrent: int = 0  # synthesize activities at once; 0: 2 x max batch when batching, else 8
    tts_threads: int = 0  # 0: let the runtime decide
    tts_loudness_dbfs: float = -20.0  # every voice's speech brought to this RMS level (gated, like LUFS)
    tts_peak_dbfs: float = -1.0  # true-peak ceiling after that gain (no clipping after MP3/Opus)
    tts_models_dir: Path | None = None  # Kokoro model + voices; default var_dir/models

    # Your own voices (issue 13): fitting a voice to a recording costs this many generations; a
    # blend is free. Fit budget: 0 = the fitter's default for the device (GPU or CPU budget).
    voice_fit_generations: int = 20
    tts_publish_previews: bool = True  # the TTS worker renders missing stock-voice previews at start
    voice_fit_steps: int = 0
    voice_fit_probe_sentences: int = 0
    # Stock voices a fit starts from and moves among (comma-separated ids; empty: all). Fewer make
    # a CPU fit's first run faster (each is rendered once per worker) and its result less close.
    voice_fit_basis: Annotated[list[str], NoDecode] = []
    voice_min_speech_seconds: float = 10.0
    voice_max_recording_seconds: float = 180.0
    max_voices_per_user: int = 30

    # Voice changer
    vc_max_seconds: float = 300  # 5 minutes
    vc_max_upload_bytes: int = 50 * 1024 * 1024
    vc_profile_cache: Path | None = None
    # world: WORLD analysis + statistical mapping (words kept best); kokoro: a learned content
    # encoder + Kokoro's decoder (far closer to the target voice, words less clear: docs/benchmarks.md)
    vc_engine: Literal["world", "kokoro"] = "world"
    vc_device: Literal["auto", "cpu", "cuda"] = "auto"  # envelope analysis, mapping, resynthesis
    vc_max_concurrent: int = 0  # conversions at once; 0: 4 on CUDA (F0/D4C run on CPU threads), else 2

    # Sound effects: the procedural engine, or a diffusers text-to-audio pipeline saved locally
    sfx_engine: Literal["procedural", "diffusers"] = "procedural"
    sfx_model_dir: Path | None = None  # for diffusers: a save_pretrained() directory
    sfx_device: Literal["auto", "cpu", "cuda"] = "auto"
    sfx_steps: int = 50  # diffusion steps

    @field_validator("voice_fit_basis", "operator_emails", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        return [v.strip() for v in value.split(",") if v.strip()] if isinstance(value, str) else value

    @model_validator(mode="after")
    def _usable_secret_key(self) -> "Settings":
        if not self.secret_key:
            self.secret_key = load_or_create_secret(self.var_dir / "secret_key")
        elif self.secret_key in PUBLISHED_SECRETS:
            raise ValueError("STUDIO_SECRET_KEY is a published default: anyone could forge sessions. Unset it.")
        elif self.public_url.startswith("https://") and len(self.secret_key) < MIN_PRODUCTION_SECRET_CHARS:
            raise ValueError(f"STUDIO_SECRET_KEY must have at least {MIN_PRODUCTION_SECRET_CHARS} characters.")
        return self

    def is_operator_email(self, email: str | None) -> bool:
        """E-mails compare without case: "Ops@Example.com" in the setting matches the account."""
        return bool(email) and email.strip().lower() in {e.lower() for e in self.operator_emails}

    @property
    def vc_profiles_dir(self) -> Path:
        return self.vc_profile_cache or self.var_dir / "vc_profiles"

    @property
    def sqlalchemy_url(self) -> str:
        return self.database_url or f"sqlite:///{self.var_dir / 'studio.db'}"

    @property
    def secure_cookies(self) -> bool:
        if self.cookie_secure is not None:
            return self.cookie_secure
        return self.public_url.startswith("https://")

    @property
    def models_dir(self) -> Path:
        return self.tts_models_dir or self.var_dir / "models"


@lru_cache
def get_settings() -> Settings:
    return Settings()
