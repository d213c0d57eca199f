"""Sign up, sign in, sign out, sessions and CSRF."""

import httpx

from studio.settings import Settings
from tests.site import csrf_from, sign_up


async def test_pages_behind_login_redirect_to_sign_in(site: httpx.AsyncClient) -> None:
    for path in ("/tts", "/history"):
        resp = await site.get(path)
        assert resp.status_code == 303 and resp.headers["location"] == f"/login?next={path}"
    resp = await site.get("/history", headers={"HX-Request": "true"})
    assert resp.status_code == 401 and resp.headers["HX-Redirect"] == "/login"


async def test_sign_up_grants_credits_and_signs_in(site: httpx.AsyncClient) -> None:
    await sign_up(site, "new@example.com")
    page = await site.get("/tts")
    assert page.status_code == 200
    assert "10,000 credits" in page.text and "new@example.com" in page.text


async def test_session_cookie_is_httponly_and_secure_behind_https(site: httpx.AsyncClient) -> None:
    resp = await site.get("/signup")
    cookie = resp.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    assert Settings(public_url="https://studio.example").secure_cookies
    assert not Settings(public_url="http://127.0.0.1:8000").secure_cookies


async def test_sign_up_rejects_bad_input_with_messages(site: httpx.AsyncClient) -> None:
    token = csrf_from((await site.get("/signup")).text)
    cases = [
        ({"email": "not-an-email", "password": "long enough"}, "valid email"),
        ({"email": "a@b.co", "password": "short"}, "at least 8"),
        ({}, "valid email"),
    ]
    for data, message in cases:
        resp = await site.post("/signup", data=data | {"csrf_token": token})
        assert resp.status_code == 422 and message in resp.text


async def test_duplicate_email_is_refused(site: httpx.AsyncClient) -> None:
    await sign_up(site, "twice@example.com")
    async with httpx.AsyncClient(transport=site._transport, base_url="http://testserver") as other:
        token = csrf_from((await other.get("/signup")).text)
        resp = await other.post(
            "/signup", data={"email": "Twice@Example.com", "password": "whatever1", "csrf_token": token}
        )
    assert resp.status_code == 422 and "already exists" in resp.text


async def test_sign_in_and_out(site: httpx.AsyncClient) -> None:
    token = await sign_up(site, "inout@example.com", "pa55word!")
    assert (await site.post("/logout", data={"csrf_token": token})).status_code == 303
    assert (await site.get("/tts")).status_code == 303
    token = csrf_from((await site.get("/login")).text)
    wrong = await site.post("/login", data={"email": "inout@example.com", "password": "nope", "csrf_token": token})
    assert wrong.status_code == 401 and "Wrong email or password" in wrong.text
    ok = await site.post(
        "/login", data={"email": "inout@example.com", "password": "pa55word!", "csrf_token": token, "next": "/history"}
    )
    assert ok.status_code == 303 and ok.headers["location"] == "/history"
    assert (await site.get("/history")).status_code == 200


async def test_open_redirects_are_refused(site: httpx.AsyncClient) -> None:
    await sign_up(site, "redir@example.com", "pa55word!")
    token = csrf_from((await site.get("/tts")).text)
    await site.post("/logout", data={"csrf_token": token})
    token = csrf_from((await site.get("/login")).text)
    resp = await site.post(
        "/login",
        data={"email": "redir@example.com", "password": "pa55word!", "csrf_token": token, "next": "//evil.example/"},
    )
    assert resp.headers["location"] == "/tts"


async def test_forms_without_the_csrf_token_are_refused(site: httpx.AsyncClient) -> None:
    await site.get("/signup")
    resp = await site.post("/signup", data={"email": "csrf@example.com", "password": "long enough"})
    assert resp.status_code == 403 and "Reload the page" in resp.text
    token = await sign_up(site)
    assert (
        await site.post("/tts", data={"text": "hi", "voice": "af_heart", "csrf_token": "forged"})
    ).status_code == 403
    assert (await site.post("/logout")).status_code == 403
    assert token
