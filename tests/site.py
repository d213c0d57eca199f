"""Driving the site over HTTP like a browser would: CSRF tokens from pages, sign-up through the form."""

import re
import uuid

import httpx


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "page has no CSRF token"
    return match.group(1)


async def sign_up(client: httpx.AsyncClient, email: str | None = None, password: str = "correct horse") -> str:
    """Create an account through the form; returns the session's CSRF token."""
    token = csrf_from((await client.get("/signup")).text)
    email = email or f"{uuid.uuid4().hex[:10]}@example.com"
    resp = await client.post("/signup", data={"email": email, "password": password, "csrf_token": token})
    assert resp.status_code == 303 and resp.headers["location"] == "/tts", resp.text
    return token


async def create_key(site: httpx.AsyncClient, name: str = "laptop") -> str:
    token = csrf_from((await site.get("/account")).text)
    # Post/redirect/get: the key is shown once, on the account page the POST redirects to.
    page = await site.post("/account/keys", data={"name": name, "csrf_token": token}, follow_redirects=True)
    assert page.status_code == 200, page.text
    return re.search(r'<pre id="new-key">([^<]+)</pre>', page.text).group(1)
