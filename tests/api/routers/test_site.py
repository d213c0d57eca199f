"""The front door and page-wide behaviour: landing page, site icon, boosted navigation."""

import httpx

from tests.site import sign_up


async def test_signed_out_visitors_get_a_landing_page_signed_in_users_go_to_work(site: httpx.AsyncClient) -> None:
    landing = await site.get("/")
    assert landing.status_code == 200
    assert "Speech, voices and sound" in landing.text
    assert 'href="/signup"' in landing.text and 'href="/login"' in landing.text
    assert "10,000 credits" in landing.text  # what a new account starts with
    await sign_up(site)
    home = await site.get("/")
    assert home.status_code == 303 and home.headers["location"] == "/tts"


async def test_favicon_is_the_logo_not_a_404(site: httpx.AsyncClient) -> None:
    icon = await site.get("/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")
    assert icon.text.lstrip().startswith("<svg")
    page = await site.get("/login")
    assert 'rel="icon" href="/static/img/logo.svg"' in page.text


async def test_boosted_navigation_gets_whole_pages_with_the_nav_marked(site: httpx.AsyncClient) -> None:
    """Boosted links send HX-Request too; they must get the whole page (not a fragment), the
    current page marked in the nav, and no emoji glyphs (boxes without an emoji font)."""
    await sign_up(site)
    boosted = {"HX-Request": "true", "HX-Boosted": "true"}
    for path in ("/tts", "/history", "/voices", "/pronunciation", "/account", "/sound-effects", "/voice-changer"):
        page = await site.get(path, headers=boosted)
        assert page.status_code == 200, path
        assert '<div id="shell"' in page.text and 'id="playbar"' in page.text, path
        assert f'href="{path}" aria-current="page"' in page.text, path
        assert page.text.count('aria-current="page"') == 1, path
        assert not any(0x1F300 <= ord(ch) <= 0x1FAFF for ch in page.text), path
    missing = await site.get("/no-such-page", headers=boosted)
    assert missing.status_code == 404 and '<div id="shell"' in missing.text and "site-nav" in missing.text
