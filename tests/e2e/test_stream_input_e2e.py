"""The official ElevenLabs SDK's realtime call (``convert_realtime``, the stream-input websocket)
against the live studio, unchanged.

The SDK always connects with ``wss://`` (it rewrites the base URL's scheme), so the site is also
served over TLS here, with a throwaway certificate for 127.0.0.1 that this process trusts through
``SSL_CERT_FILE`` (read by Python's default SSL context).
"""

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from elevenlabs.client import ElevenLabs

from temporal.dev_server import wait_for_port
from tests import services
from tests.e2e.conftest import Stack
from tests.e2e.test_api_clients import assert_speech

pytestmark = pytest.mark.e2e

REPLY = (
    "Sure, here is what I found. The studio speaks while the text is still being written, "
    "one phrase at a time, and keeps the whole answer in your history."
)


def self_signed(folder: Path) -> tuple[Path, Path]:
    key, cert = folder / "key.pem", folder / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return key, cert


@pytest.fixture(scope="module")
def tls_site(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The same site as ``stack``'s, served over TLS (the SDK's websocket is always wss)."""
    key, cert = self_signed(tmp_path_factory.mktemp("tls"))
    port = services.free_port()
    stack.commands["site_tls"] = [
        sys.executable, "-m", "uvicorn", "api.main:app", "--host", "127.0.0.1", "--port", str(port),
        "--ssl-keyfile", str(key), "--ssl-certfile", str(cert),
    ]  # fmt: skip
    stack.start("site_tls")
    wait_for_port("127.0.0.1", port, timeout=60)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SSL_CERT_FILE", str(cert))
        yield f"https://127.0.0.1:{port}"
    services.stop(stack.processes.pop("site_tls"))


def llm_tokens(text: str, delay: float = 0.02) -> Iterator[str]:
    """Text as a language model streams it: a word or so at a time."""
    for word in text.split(" "):
        time.sleep(delay)
        yield word + " "


def test_sdk_convert_realtime(stack: Stack, tls_site: str, api_key: str) -> None:
    client = ElevenLabs(api_key=api_key, base_url=tls_site)
    start, arrivals, chunks = time.monotonic(), [], []
    for chunk in client.text_to_speech.convert_realtime(
        voice_id="bf_emma", text=llm_tokens(REPLY), model_id="eleven_flash_v2_5", output_format="mp3_44100_128"
    ):
        arrivals.append(time.monotonic() - start)
        chunks.append(chunk)
    print(f"\nrealtime: first audio after {arrivals[0]:.2f} s, last after {arrivals[-1]:.2f} s, {len(chunks)} chunks")
    assert len(chunks) > 2 and arrivals[0] < 0.8 * arrivals[-1]  # sound started before the text ended
    assert_speech(b"".join(chunks), REPLY, max_wer=0.35)

    item = client.history.list(page_size=1).history[0]  # one clip for the whole session
    assert item.text == REPLY and item.voice_id == "bf_emma"
    for _ in range(100):  # the clip is committed just after the socket closes
        if client.history.get(history_item_id=item.history_item_id).state == "created":
            break
        time.sleep(0.1)
    stored = b"".join(client.history.get_audio(history_item_id=item.history_item_id))
    assert_speech(stored, REPLY, max_wer=0.35)
    spent = client.user.get().subscription.character_count
    assert spent == 50  # one generation, however many segments


def test_sdk_gets_the_refusal_for_an_unknown_voice(tls_site: str, api_key: str) -> None:
    from elevenlabs.core.api_error import ApiError

    client = ElevenLabs(api_key=api_key, base_url=tls_site)
    with pytest.raises(ApiError) as refused:
        list(client.text_to_speech.convert_realtime(voice_id="zz_nobody", text=iter(["Hello. "])))
    assert refused.value.status_code == 1008 and "not found" in str(refused.value.body)
