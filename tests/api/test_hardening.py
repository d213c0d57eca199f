"""Request-level hardening: body caps before any check, 4xx for odd input, browser security headers."""

import re

import httpx

from tests.site import create_key, csrf_from, sign_up


async def test_an_oversized_form_is_refused_before_sign_in_reads_it(site: httpx.AsyncClient) -> None:
    token = csrf_from((await site.get("/login")).text)
    sent = []

    async def huge_part():  # no Content-Length: counted while it streams in
        yield b'--xyz\r\nContent-Disposition: form-data; name="email"; filename="x.bin"\r\n\r\n'
        for _ in range(300):
            sent.append(1)
            yield b"\x00" * 100_000

    headers = {"X-CSRF-Token": token, "content-type": "multipart/form-data; boundary=xyz"}
    resp = await site.post("/login", content=huge_part(), headers=headers)
    assert resp.status_code == 413 and "too large" in resp.text
    assert len(sent) < 20  # cut off near the 1 MB cap (~11 chunks of 100 KB), not after 30 MB

    declared = await site.post("/signup", data={"email": "a@b.cd", "password": "x" * 2_000_000})
    assert declared.status_code == 413


async def test_an_oversized_json_body_is_refused_without_a_key(site: httpx.AsyncClient) -> None:
    resp = await site.post("/v1/text-to-speech/af_heart", content=b'{"text": "' + b"a" * 5_000_000 + b'"}')
    assert resp.status_code == 413
    assert resp.json()["detail"]["status"] == "request_too_large"


async def test_odd_unicode_digits_are_4xx_not_500(site: httpx.AsyncClient) -> None:
    token = await sign_up(site)
    key = await create_key(site)
    voices = await site.get("/v2/voices", params={"next_page_token": "²"}, headers={"xi-api-key": key})
    assert voices.status_code == 422 and "next_page_token" in voices.json()["detail"]["message"]
    history = await site.get("/v1/history", params={"start_after_history_item_id": "²"}, headers={"xi-api-key": key})
    assert history.status_code == 404
    form = {"prompt": "rain on a tin roof", "duration": "5", "influence": "0.4", "variations": "1", "seed": "²"}
    sfx = await site.post("/sound-effects", data=form, headers={"HX-Request": "true", "X-CSRF-Token": token})
    assert sfx.status_code == 422 and "seed must be a whole number" in sfx.text


async def test_pages_carry_security_headers_and_their_inline_scripts_the_nonce(site: httpx.AsyncClient) -> None:
    await sign_up(site)
    page = await site.get("/tts")
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    csp = page.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    nonce = re.search(r"'nonce-([^']+)'", csp).group(1)
    script_src = re.search(r"script-src ([^;]*)", csp).group(1)
    assert f"'nonce-{nonce}'" in script_src and "'unsafe-inline'" not in script_src
    # The pages' behaviour is in static files (issue 18: boosted navigation); any inline script left carries the nonce.
    inline = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", page.text)
    assert all(f'nonce="{nonce}"' in attrs for attrs in inline)
    assert (await site.get("/tts")).headers["Content-Security-Policy"] != csp  # a fresh nonce per response
    api = await site.get("/v1/models")
    assert api.headers["X-Content-Type-Options"] == "nosniff"
