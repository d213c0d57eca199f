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


async def test_sign_out_revokes_every_cookie_issued_before(site: httpx.AsyncClient) -> None:
    token = await sign_up(site, "revoke@example.com", "pa55word!")
    copied = site.cookies["studio_session"]  # e.g. stolen, or another tab/device
    async with httpx.AsyncClient(transport=site._transport, base_url="http://testserver") as laptop:
        login_token = csrf_from((await laptop.get("/login")).text)
        signed_in = await laptop.post(
            "/login", data={"email": "revoke@example.com", "password": "pa55word!", "csrf_token": login_token}
        )
        assert signed_in.status_code == 303 and (await laptop.get("/tts")).status_code == 200
        out = await site.post("/logout", data={"csrf_token": token})
        assert out.status_code == 303 and out.headers["location"] == "/login?signed_out=1"
        assert "signed out on every device" in (await site.get(out.headers["location"])).text
        # Sign-out means everywhere: the other device's session has ended too.
        resp = await laptop.get("/tts")
        assert resp.status_code == 303 and resp.headers["location"] == "/login?next=/tts"
    async with httpx.AsyncClient(
        transport=site._transport, base_url="http://testserver", cookies={"studio_session": copied}
    ) as thief:
        resp = await thief.get("/tts")
        assert resp.status_code == 303 and resp.headers["location"] == "/login?next=/tts"
        assert (await thief.get("/history", headers={"HX-Request": "true"})).status_code == 401
    # Signing in again gives a working session.
    token = csrf_from((await site.get("/login")).text)
    await site.post("/login", data={"email": "revoke@example.com", "password": "pa55word!", "csrf_token": token})
    assert (await site.get("/tts")).status_code == 200


async def test_a_revoked_cookie_cannot_sign_out_the_current_session(site: httpx.AsyncClient) -> None:
    token = await sign_up(site, "stale@example.com", "pa55word!")
    copied, copied_token = site.cookies["studio_session"], token
    await site.post("/logout", data={"csrf_token": token})
    token = csrf_from((await site.get("/login")).text)
    await site.post("/login", data={"email": "stale@example.com", "password": "pa55word!", "csrf_token": token})
    async with httpx.AsyncClient(
        transport=site._transport, base_url="http://testserver", cookies={"studio_session": copied}
    ) as thief:
        assert (await thief.post("/logout", data={"csrf_token": copied_token})).status_code == 303
    assert (await site.get("/tts")).status_code == 200


async def _login(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    token = csrf_from((await client.get("/login")).text)
    return await client.post("/login", data={"email": email, "password": password, "csrf_token": token})


async def test_failed_sign_ins_are_throttled_per_account(site: httpx.AsyncClient) -> None:
    from api.login_throttle import MAX_FAILURES_PER_ACCOUNT, WINDOW_S, LoginThrottle

    now = [1000.0]
    site._transport.app.state.login_throttle = LoginThrottle(clock=lambda: now[0])
    await sign_up(site, "victim@example.com", "pa55word!")
    await sign_up(site, "bystander@example.com", "pa55word!")
    for _ in range(MAX_FAILURES_PER_ACCOUNT):
        assert (await _login(site, "victim@example.com", "guess")).status_code == 401
    refused = await _login(site, "Victim@example.com ", "guess")
    assert refused.status_code == 429 and refused.headers["Retry-After"] == str(WINDOW_S)
    assert "Too many failed sign-ins" in refused.text and "15 minutes" in refused.text
    # The right password is refused too while throttled: guessing gains nothing.
    assert (await _login(site, "victim@example.com", "pa55word!")).status_code == 429
    # Another account from the same address is unaffected.
    assert (await _login(site, "bystander@example.com", "pa55word!")).status_code == 303
    now[0] += 60
    refused = await _login(site, "victim@example.com", "pa55word!")
    assert refused.status_code == 429 and refused.headers["Retry-After"] == str(WINDOW_S - 60)
    now[0] += WINDOW_S - 60  # the window has passed
    assert (await _login(site, "victim@example.com", "pa55word!")).status_code == 303
    # The success cleared the account's failures: a new typo is not refused.
    for _ in range(MAX_FAILURES_PER_ACCOUNT - 1):
        assert (await _login(site, "victim@example.com", "guess")).status_code == 401
    assert (await _login(site, "victim@example.com", "pa55word!")).status_code == 303


async def test_failed_sign_ins_are_throttled_per_client_address(site: httpx.AsyncClient) -> None:
    from api.login_throttle import LoginThrottle

    site._transport.app.state.login_throttle = LoginThrottle(max_per_account=5, max_per_ip=3)
    for i in range(3):  # password spraying: one guess on each of many e-mails
        assert (await _login(site, f"sprayed{i}@example.com", "guess")).status_code == 401
    refused = await _login(site, "sprayed9@example.com", "guess")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0


async def test_unknown_email_still_verifies_a_password(site: httpx.AsyncClient, monkeypatch) -> None:  # noqa: ANN001
    """Equal work for known and unknown e-mails, so response time does not reveal who has an account."""
    import api.routers.auth as auth
    from api.security import dummy_password_hash

    await sign_up(site, "known@example.com", "pa55word!")
    calls: list[str] = []
    real = auth.verify_password

    def spy(password: str, hashed: str) -> bool:
        calls.append(hashed)
        return real(password, hashed)

    monkeypatch.setattr(auth, "verify_password", spy)
    assert (await _login(site, "nobody@example.com", "pa55word!")).status_code == 401
    assert calls == [dummy_password_hash()] and calls[0].startswith("$argon2")
    assert (await _login(site, "known@example.com", "wrong")).status_code == 401
    assert len(calls) == 2 and calls[1].startswith("$argon2") and calls[1] != calls[0]
