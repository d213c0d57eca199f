"""The site on a phone (390 px) and a laptop (1280 px) in real Chromium: every page fits without
horizontal scrolling, the navigation is usable and marks the current page, an accessibility audit
(axe-core, vendored) finds no serious or critical violation, and a clip keeps playing in the
persistent playbar while the user moves between pages.

Set STUDIO_SCREENSHOT_DIR (e.g. docs/screenshots) to save a screenshot of each page at each width.
"""

import os
import re
import uuid
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from tests.e2e.conftest import Stack
from tests.e2e.test_browser import CHROMIUM, CHROMIUM_ARGS, LIVENESS_MS

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

AXE = Path(__file__).parent / "vendor" / "axe.min.js"  # axe-core 4.14.1 from npm (MPL-2.0)
SMALL_PHONE, PHONE, LAPTOP = 360, 390, 1280
SIGNED_OUT_PAGES = {"landing": "/", "sign-in": "/login", "sign-up": "/signup"}
SIGNED_IN_PAGES = {
    "text-to-speech": "/tts",
    "voice-changer": "/voice-changer",
    "voices": "/voices",
    "pronunciation": "/pronunciation",
    "sound-effects": "/sound-effects",
    "history": "/history",
    "account": "/account",
    "not-found": "/no-such-page",
}
NAV = {  # the sidebar's links and the page each one opens
    "Text to speech": "/tts",
    "Voice changer": "/voice-changer",
    "Voices": "/voices",
    "Pronunciation": "/pronunciation",
    "Sound effects": "/sound-effects",
    "History": "/history",
    "Account & API keys": "/account",
}


# Elements of the page's content that stick out past the window's right edge (tables may scroll
# inside their own .table-wrap).
PAST_THE_EDGE = """() => [...document.querySelectorAll('main *')]
    .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
    .filter(e => getComputedStyle(e).visibility !== 'hidden' && !e.closest('.table-wrap'))
    .map(e => e.tagName + '.' + e.className).slice(0, 5)"""


async def new_page(browser: Browser, width: int) -> Page:
    # bypass_csp: the audit script is injected inline; the site's own CSP stays on for its scripts.
    context = await browser.new_context(viewport={"width": width, "height": 860}, bypass_csp=True)
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.errors = errors  # type: ignore[attr-defined]
    return page


async def sign_up(page: Page, site_url: str) -> None:
    await page.goto(f"{site_url}/signup")
    await page.fill("input[name=email]", f"layout-{uuid.uuid4().hex[:8]}@example.com")
    await page.fill("input[name=password]", "layout-pass-1")
    await page.click("main button[type=submit]")
    await expect(page).to_have_url(f"{site_url}/tts")


async def audit(page: Page) -> list[str]:
    """axe-core's WCAG 2.1 A/AA rules on the page as it stands; the serious and critical findings."""
    await page.add_script_tag(path=str(AXE))
    result = await page.evaluate(
        "() => axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})"
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


async def check_page(page: Page, name: str, width: int) -> None:
    """No horizontal scroll, no script error, no serious accessibility finding; a screenshot if asked."""
    overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{name} at {width} px scrolls sideways by {overflow} px"
    wide = await page.evaluate(PAST_THE_EDGE)
    assert not wide, f"{name} at {width} px: elements past the right edge: {wide}"
    assert await audit(page) == [], f"{name} at {width} px"
    assert page.errors == [], f"{name} at {width} px: {page.errors}"  # type: ignore[attr-defined]
    shots = os.environ.get("STUDIO_SCREENSHOT_DIR")
    if shots:
        Path(shots).mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=f"{shots}/{name}-{width}.png", full_page=True)


@pytest.mark.parametrize("width", [SMALL_PHONE, PHONE, LAPTOP])
async def test_every_page_fits_and_passes_the_audit(stack: Stack, width: int) -> None:
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = await new_page(browser, width)
        icon = await page.request.get(f"{stack.site_url}/favicon.ico")
        assert icon.ok and icon.headers["content-type"].startswith("image/svg+xml")

        for name, path in SIGNED_OUT_PAGES.items():
            await page.goto(stack.site_url + path)
            await check_page(page, name, width)
        await page.goto(stack.site_url + "/")
        await expect(page.locator("main h1")).to_contain_text("Speech, voices and sound")
        await expect(page.locator("main a:has-text('Create an account')")).to_be_visible()

        await sign_up(page, stack.site_url)
        if os.environ.get("STUDIO_SCREENSHOT_DIR"):  # pictures of a studio in use: a clip in History
            await page.fill("#text", "Welcome to the studio. This clip was made for the screenshots.")
            await page.click("button:has-text('Generate')")
            await expect(page.locator("article.clip").first).to_have_attribute(
                "data-stage", "done", timeout=LIVENESS_MS
            )
        for name, path in SIGNED_IN_PAGES.items():
            response = await page.goto(stack.site_url + path)
            assert response.status == (404 if name == "not-found" else 200), name
            await expect(page.locator("#main h1, #main .alert").first).to_be_visible()
            await check_page(page, name, width)
        await browser.close()


@pytest.mark.parametrize("width", [PHONE, LAPTOP])
async def test_navigation_is_usable_and_marks_the_current_page(stack: Stack, width: int) -> None:
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = await new_page(browser, width)
        await sign_up(page, stack.site_url)
        nav = page.locator("#site-nav")
        menu = page.locator(".menu-button")
        await page.evaluate("window.sameDocument = true")  # gone if a click reloads the page
        for label, path in NAV.items():
            if width == PHONE:
                await expect(nav).to_be_hidden()  # the phone shows a menu button, not the whole list
                await menu.click()
                await expect(menu).to_have_attribute("aria-expanded", "true")
            else:
                await expect(menu).to_be_hidden()
            link = nav.get_by_role("link", name=label, exact=True)
            await expect(link).to_be_visible()
            await link.click()
            await expect(page).to_have_url(stack.site_url + path)
            await expect(nav.locator("a[aria-current=page]")).to_have_text(label)
            await expect(page).to_have_title(re.compile(r"· Studio$"))
        assert await page.evaluate("window.sameDocument") is True  # boosted: one document all along

        # Keyboard: the skip link is first and lands on the content.
        await page.goto(stack.site_url + "/history")
        await page.keyboard.press("Tab")
        await expect(page.locator(".skip-link")).to_be_focused()
        await page.keyboard.press("Enter")
        await expect(page.locator("#main")).to_be_focused()
        await browser.close()


async def test_a_clip_keeps_playing_in_the_playbar_across_pages(stack: Stack) -> None:
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = await new_page(browser, LAPTOP)
        await sign_up(page, stack.site_url)
        text = (
            "The playbar keeps this clip going while you look at other pages of the studio. "
            "It goes on speaking as you move around, and its words light up again when you come back."
        )
        await page.fill("#text", text)
        await page.click("button:has-text('Generate')")
        card = page.locator("article.clip").first
        await expect(card).to_have_attribute("data-stage", "done", timeout=LIVENESS_MS)
        clip_id = (await card.get_attribute("id")).removeprefix("clip-")

        await page.click("#site-nav >> text=History")
        await expect(page).to_have_url(f"{stack.site_url}/history")
        bar, bar_audio = page.locator("#playbar"), page.locator("#playbar-audio")
        await expect(bar).to_be_hidden()
        await page.evaluate("window.sameDocument = true")
        # The card's own player hands over to the bar (muted: the test machine has no sound card).
        await page.locator(f"#clip-{clip_id} audio").first.evaluate("a => { a.muted = true; return a.play(); }")
        await expect(bar).to_be_visible()
        await expect(bar.locator(".title")).to_contain_text("The playbar keeps")
        await expect(bar.locator(".download")).to_have_attribute("href", re.compile(rf"/clips/{clip_id}/audio"))
        await expect(bar).to_have_class(re.compile(r"\bplaying\b"))

        await page.click("#site-nav >> text=Voices")
        await expect(page).to_have_url(f"{stack.site_url}/voices")
        await expect(page.locator("#main h1")).to_have_text("Voices")
        before = await bar_audio.evaluate("a => a.currentTime")
        await page.wait_for_timeout(700)
        after, paused = await bar_audio.evaluate("a => [a.currentTime, a.paused]")
        assert not paused and after > before, (before, after)
        assert await page.evaluate("window.sameDocument") is True
        if shots := os.environ.get("STUDIO_SCREENSHOT_DIR"):
            await page.screenshot(path=f"{shots}/playbar-{LAPTOP}.png")
        # Its words light up on the History page again when the user goes back there.
        await page.click("#site-nav >> text=History")
        await expect(page.locator(f"#clip-{clip_id} p.text span.word.spoken")).to_have_count(1, timeout=10_000)

        await bar.locator(".play-toggle").click()
        await expect(bar).not_to_have_class(re.compile(r"\bplaying\b"))
        assert await bar_audio.evaluate("a => a.paused")
        await bar.locator(".close").click()
        await expect(bar).to_be_hidden()
        await browser.close()
