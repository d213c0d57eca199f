"""The generation forms' behaviour in real Chromium (api/static/forms.js): counters that warn and
explain instead of cutting, the price as you type and the live balance, examples that fill the
prompt after boosted navigation, the drop zone, and the API key's copy button."""

import re
import uuid

import pytest
from playwright.async_api import Page, async_playwright, expect
from sqlalchemy import create_engine, text

from tests.e2e.conftest import Stack
from tests.e2e.test_browser import CHROMIUM, CHROMIUM_ARGS, LIVENESS_MS

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


async def sign_up(page: Page, site_url: str) -> str:
    email = f"forms-{uuid.uuid4().hex[:8]}@example.com"
    await page.goto(f"{site_url}/signup")
    await page.fill("input[name=email]", email)
    await page.fill("input[name=password]", "forms-pass-1")
    await page.click("main button[type=submit]")
    await expect(page).to_have_url(f"{site_url}/tts")
    return email


def set_credits(db_url: str, email: str, credits: int) -> None:
    engine = create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE users SET credits = :c WHERE email = :e"), {"c": credits, "e": email})
    engine.dispose()


async def test_counter_warns_near_the_limit_and_blocks_past_it_without_cutting(stack: Stack) -> None:
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = await browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        await sign_up(page, stack.site_url)
        generate = page.locator("button:has-text('Generate')")

        await page.fill("#text", "x" * 4600)
        await expect(page.locator("#char-count")).to_have_text("4,600")
        await expect(page.locator("#text-counter")).to_have_class("counter near")
        await expect(page.locator("#text-limit")).to_have_text("400 characters left.")
        await expect(generate).to_be_enabled()

        await page.fill("#text", "y" * 6000)  # as a paste of 6,000 would: every character kept
        assert len(await page.locator("#text").input_value()) == 6000
        await expect(page.locator("#text-counter")).to_have_class("counter over")
        await expect(page.locator("#text-limit")).to_contain_text("6,000 characters; the limit is 5,000. Remove 1,000")
        await expect(generate).to_be_disabled()

        await page.fill("#text", "Short again.")
        await expect(page.locator("#text-limit")).to_have_text("")
        await expect(generate).to_be_enabled()

        # A refused request's message replaces the last one instead of stacking under it.
        await page.fill("#text", "   ")
        alerts = page.locator("#result .alert.error")
        await generate.click()
        await expect(alerts).to_have_count(1)
        await alerts.evaluate("el => el.dataset.old = '1'")
        await generate.click()
        await expect(page.locator("#result .alert.error:not([data-old])")).to_have_count(1)  # the new one landed
        await expect(alerts).to_have_count(1)
        await expect(alerts).to_contain_text("Type some text")
        await expect(generate).to_be_enabled()
        assert errors == []
        await browser.close()


async def test_price_follows_variations_and_the_balance(stack: Stack, pg_url: str) -> None:
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = await browser.new_page()
        email = await sign_up(page, stack.site_url)
        # Boosted navigation: the page is swapped in, and its examples and price still work.
        await page.click("nav >> text=Sound effects")
        await expect(page).to_have_url(f"{stack.site_url}/sound-effects")
        await page.click("button.chip:has-text('a sci-fi laser blast')")
        await expect(page.locator("#prompt")).to_have_value("a sci-fi laser blast")
        await expect(page.locator("#prompt-count")).to_have_text("20")

        price = page.locator(".submit-row [data-price]")
        await expect(price).to_have_text("50")
        await page.select_option("#variations", "3")
        await expect(price).to_have_text("150")

        # A generation: the form's "you have" follows the header's balance.
        await page.select_option("#variations", "1")
        await page.locator("#duration").fill("1")
        await page.click("button:has-text('Generate')")
        card = page.locator("article.clip").first
        await expect(card).to_have_attribute("data-stage", "done", timeout=LIVENESS_MS)
        await expect(page.locator("#balance")).to_have_text("9,950 credits")
        await expect(page.locator(".submit-row [data-credits]")).to_have_text("9,950")

        # Less than the price: the button is disabled, with the reason.
        set_credits(pg_url, email, 120)
        await page.reload()
        await page.select_option("#variations", "3")
        await expect(page.locator("[data-short-message]")).to_have_text(
            "This costs 150 credits and you have 120. Ask for fewer to make it cheaper."
        )
        await expect(page.locator("button:has-text('Generate')")).to_be_disabled()
        await page.select_option("#variations", "2")
        await expect(page.locator("[data-short-message]")).to_be_hidden()
        await expect(page.locator("button:has-text('Generate')")).to_be_enabled()
        await browser.close()


async def test_drop_zone_and_copy_button(stack: Stack, tmp_path) -> None:  # noqa: ANN001
    import numpy as np

    from studio.audio import to_wav
    from workers.gpu_sfx.dsp import SFX_RATE

    recording = tmp_path / "two seconds.wav"
    recording.write_bytes(to_wav(np.zeros(2 * SFX_RATE, np.float32), SFX_RATE))
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = await browser.new_page()
        await sign_up(page, stack.site_url)
        await page.goto(f"{stack.site_url}/voice-changer")
        box = await page.locator("#audio").bounding_box()
        assert box is None or box["width"] <= 1  # no raw "Choose File" button in the zone
        await page.focus("#audio")  # keyboard focus reaches the input; the zone shows it
        assert await page.evaluate("document.getElementById('drop').matches(':focus-within')")
        await page.set_input_files("#audio", str(recording))
        await expect(page.locator("#drop-text")).to_contain_text("two seconds.wav (0:02,")

        await page.goto(f"{stack.site_url}/account")
        await page.fill("#key-name", "browser")
        await page.click("button:has-text('Create key')")
        await expect(page).to_have_url(re.compile(re.escape(stack.site_url) + r"/account(#api-keys)?$"))
        key = await page.locator("#new-key").text_content()
        assert key.startswith("sk_studio_")
        await page.click("button[data-copy]")
        await expect(page.locator("#copy-status")).to_have_text(re.compile(r"Copied\.|Selected: press Ctrl\+C"))
        await page.reload()  # shown once; reloading made no second key
        await expect(page.locator("#new-key")).to_have_count(0)
        await expect(page.locator("table.keys tbody tr")).to_have_count(1)
        await browser.close()
