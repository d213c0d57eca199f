"""A real browser (headless Debian Chromium, driven by Playwright) against the real stack."""

import re
import uuid

import pytest
from playwright.async_api import Locator, Page, async_playwright, expect

from tests.e2e.conftest import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

CHROMIUM = "/usr/bin/chromium"
# How long a clip may take to be done: a bound on a hang, not a speed check. The TTS worker renders
# the stock voices' previews when it starts, taking turns with these clips, on a 2-core CPU of any kind.
LIVENESS_MS = 240_000
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic", "--autoplay-policy=no-user-gesture-required",
]  # fmt: skip


async def sign_up_in(page: Page, site_url: str, prefix: str) -> None:
    await page.goto(f"{site_url}/signup")
    await page.fill("input[name=email]", f"{prefix}-{uuid.uuid4().hex[:8]}@example.com")
    await page.fill("input[name=password]", "browser-pass-1")
    await page.click("button[type=submit]")
    await expect(page).to_have_url(f"{site_url}/tts")  # signed in (a boosted form: wait for it to land)


async def loaded_duration(audio: Locator) -> float:
    """Make the browser fetch and decode an <audio> element's metadata; its duration in seconds."""
    return await audio.evaluate(
        """a => new Promise((ok, fail) => {
            a.addEventListener('loadedmetadata', () => ok(a.duration), {once: true});
            a.addEventListener('error', () => fail('audio error ' + (a.error && a.error.code)), {once: true});
            a.preload = 'auto'; a.load();
        })"""
    )


async def test_sign_up_generate_and_play_in_chromium(stack: Stack) -> None:
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = await browser.new_page()
        await page.goto(f"{stack.site_url}/tts")
        await expect(page).to_have_url(f"{stack.site_url}/login?next=/tts")
        await page.click("text=Create an account")
        await expect(page.get_by_role("heading", name="Create your account")).to_be_visible()  # swapped in
        await page.fill("input[name=email]", "browser-operator@example.com")  # an operator: sees Temporal links
        await page.fill("input[name=password]", "browser-pass-1")
        await page.click("button[type=submit]")
        await expect(page).to_have_url(f"{stack.site_url}/tts")

        await page.fill("#text", "The browser test is speaking now.")
        await expect(page.locator("#char-count")).to_have_text("33")
        await page.select_option("#voice", "bf_emma")
        parts: list[str] = []
        page.on("request", lambda r: parts.append(r.url) if "/parts/" in r.url else None)
        await page.click("button:has-text('Generate')")

        card = page.locator("article.clip").first
        await expect(card).to_have_attribute("data-stage", "done", timeout=LIVENESS_MS)
        # It played as it was made: the pushed parts (a few words, then the rest) were fetched and
        # scheduled on the page's audio as they landed, the first before the card said "done".
        assert len(parts) == 2
        live = await page.evaluate("window.studioLive")
        assert len(live["clicks"]) == 1 and len(live["firstAudio"]) == 1 and live["firstAudio"][0] > live["clicks"][0]
        audio = card.locator("audio")
        clip_id = (await card.get_attribute("id")).removeprefix("clip-")
        await expect(audio).to_have_attribute("src", f"/clips/{clip_id}/audio")
        duration = await loaded_duration(audio)
        assert 1.0 < duration < 10.0
        await expect(page.locator("#balance")).to_have_text("9,950 credits")

        # Playing lights up the words as they are spoken (captions.js, the clip's word times).
        await audio.evaluate("a => { a.muted = true; return a.play(); }")
        await expect(card.locator("p.text span.word")).to_have_count(6)
        await expect(card.locator("p.text span.word.spoken")).to_have_count(1, timeout=10_000)
        # The card's download menu (a <details>) opens from the keyboard and offers every API format.
        menu = card.locator("details.download").first
        await menu.locator("summary").focus()
        await page.keyboard.press("Enter")
        await expect(card.locator("a:has-text('Captions SRT')")).to_be_visible()
        formats = ["MP3", "WAV", "Opus", "FLAC", "AAC", "PCM (raw 16-bit)", "μ-law 8 kHz", "A-law 8 kHz"]
        await expect(menu.locator(".menu a")).to_have_text([*formats, "Captions SRT", "WebVTT"])
        await page.keyboard.press("Escape")  # closes it and gives the focus back to its button
        await expect(card.locator("a:has-text('Captions SRT')")).to_be_hidden()
        await expect(menu.locator("summary")).to_be_focused()
        await page.keyboard.press("Enter")
        async with page.expect_download() as download:
            await menu.locator("a:has-text('Opus')").click()
        assert (await download.value).suggested_filename.endswith(" Emma - The browser test is speaking now.opus")

        # The clip's link opens its workflow in the real Temporal Web UI (latest run, completed).
        ui = await browser.new_page()
        await ui.goto(await card.locator("a.workflow").get_attribute("href"))
        await expect(ui).to_have_url(re.compile(rf"/workflows/clip-{clip_id}/[0-9a-f-]+/"), timeout=20_000)
        await expect(ui.get_by_role("status").first).to_have_text("Completed", timeout=20_000)
        for step in ("reserve_credits", "synthesize_speech", "upload_audio", "commit_clip"):
            await expect(ui.locator("main")).to_contain_text(step)
        await ui.close()

        # History: the duration shows without fetching the audio, the waveform is drawn, and a search
        # narrows the list in place with the address bar following (then clears).
        await page.goto(f"{stack.site_url}/history")
        done = page.locator(f"#clip-{clip_id}")
        await expect(done.locator("button.wave .duration")).to_have_text(re.compile(r"^0:0[1-9]$"))
        wave = done.locator("button.wave img")
        await wave.scroll_into_view_if_needed()
        await expect(wave).to_have_js_property("complete", True)
        assert await wave.evaluate("img => img.naturalWidth") > 0
        await done.locator("button.wave").click()  # plays in the playbar (data-play), and shows it is playing
        await expect(page.locator("#playbar .title")).to_have_text("Emma – The browser test is speaking now.")
        await expect(done.locator("button.wave")).to_have_attribute("aria-pressed", "true")
        await page.locator("#playbar .play-toggle").click()
        await expect(done.locator("button.wave")).to_have_attribute("aria-pressed", "false")
        await page.fill("#history-q", "nothing like this")
        await expect(page).to_have_url(re.compile(r"/history\?q=nothing(\+|%20)like(\+|%20)this"))
        await expect(page.locator("#history-results .empty")).to_contain_text("No clips match")
        await page.click("#history-results a.clear-filters")
        await expect(page.locator("article.clip")).to_have_count(1)
        await page.select_option("#history-kind", "tts")
        await expect(page).to_have_url(re.compile(r"kind=tts"))
        await expect(page.locator(f"#clip-{clip_id}")).to_be_visible()
        # On a phone (390 px) the page, the card and its open download menu fit the width.
        await page.set_viewport_size({"width": 390, "height": 844})
        await page.locator(f"#clip-{clip_id} details.download summary").click()
        await expect(page.locator(f"#clip-{clip_id} details.download .menu")).to_be_visible()
        assert await page.evaluate("document.documentElement.scrollWidth") <= 390
        box = await page.locator(f"#clip-{clip_id} details.download .menu").bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390
        await page.set_viewport_size({"width": 1280, "height": 800})

        await page.goto(f"{stack.site_url}/tts")
        await page.fill("#text", "")
        await page.evaluate("document.getElementById('text').removeAttribute('required')")
        await page.click("button:has-text('Generate')")
        await expect(page.locator("#result .alert.error").first).to_contain_text("Type some text")
        await browser.close()


async def test_voice_changer_upload_in_chromium(stack: Stack, tmp_path) -> None:  # noqa: ANN001
    from studio.audio import to_wav
    from workers.gpu_tts.engine import tts_engine

    recording = tmp_path / "my recording.wav"
    recording.write_bytes(to_wav(tts_engine().synthesize("Testing the voice changer page.", "am_michael"), 24_000))
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = await browser.new_page()
        await sign_up_in(page, stack.site_url, "vc")
        await page.goto(f"{stack.site_url}/voice-changer")
        await page.set_input_files("#audio", str(recording))
        await expect(page.locator("#drop-text")).to_contain_text("my recording.wav")
        await expect(page.locator("#preview")).to_be_visible()
        await page.select_option("#voice", "af_bella")
        await page.click("button:has-text('Convert')")
        card = page.locator("article.clip").first
        await expect(card).to_have_attribute("data-stage", "done", timeout=LIVENESS_MS)
        await expect(card).to_contain_text("my recording.wav")
        assert await loaded_duration(card.locator("audio")) > 1.0
        await expect(card.locator("a.workflow")).to_have_count(0)  # not an operator: no Temporal link
        await expect(card.locator("a.use-again")).to_have_attribute("href", re.compile(r"^/voice-changer\?use="))
        await browser.close()


async def test_sound_effect_variations_play_in_chromium(stack: Stack) -> None:
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = await browser.new_page()
        await sign_up_in(page, stack.site_url, "sfx")
        await page.click("nav >> text=Sound effects")
        await expect(page).to_have_url(f"{stack.site_url}/sound-effects")

        await page.fill("#prompt", "a crackling campfire with crickets")
        await page.locator("#duration").fill("3")
        await expect(page.locator("#duration-value")).to_have_text("3 s")
        await page.select_option("#variations", "2")
        await page.fill("#seed", "77")
        await page.click("button:has-text('Generate')")

        card = page.locator("article.clip").first
        await expect(card).to_have_attribute("data-stage", "done", timeout=LIVENESS_MS)
        await expect(card).to_contain_text("seed 77")
        players = card.locator("audio")
        await expect(players).to_have_count(2)
        for i in range(2):
            assert abs(await loaded_duration(players.nth(i)) - 3.0) < 0.1
        await expect(page.locator("#balance")).to_have_text("9,900 credits")
        await browser.close()


async def test_voices_page_blend_and_picker_in_chromium(stack: Stack, tmp_path) -> None:  # noqa: ANN001
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = await browser.new_page()
        await sign_up_in(page, stack.site_url, "voices")
        await page.click("nav >> text=Voices")
        await expect(page).to_have_url(f"{stack.site_url}/voices")

        # A stock voice's preview plays (the TTS worker renders them at start: reload until it has).
        heart = page.locator("#stock-af_heart audio")
        for _ in range(60):
            if await heart.count():
                break
            await page.wait_for_timeout(2_000)
            await page.reload()
        await expect(heart).to_have_attribute("src", "/voices/af_heart/preview")
        assert 2.0 < await loaded_duration(heart) < 15.0

        # Search and filters work as you type, without a reload.
        await page.fill("#voice-search", "emm")
        await expect(page.locator("#stock-voices li:visible")).to_have_count(1)
        await expect(page.locator("#stock-bf_emma")).to_be_visible()
        await page.fill("#voice-search", "")
        await page.select_option("#accent-filter", "British")
        await page.select_option("#gender-filter", "Male")
        await expect(page.locator("#stock-voices li:visible")).to_have_count(4)

        # A fit without the consent box ticked is refused with a message (nothing starts).
        recording = tmp_path / "me.wav"
        recording.write_bytes(b"RIFF, but refused before it is even read")
        await page.set_input_files("#audio", str(recording))
        await page.fill("#fit-name", "Not allowed")
        await page.click("button:has-text('Create voice')")
        await expect(page.locator("#fit-message .alert.error")).to_contain_text("right to use")

        # A blend: a bad row gets a message; then it is made, and its card appears with its preview.
        await page.fill("#blend-name", "Browser blend")
        await page.locator(".blend-voice").nth(2).select_option("am_adam")
        await page.click("button:has-text('Create blend')")
        await expect(page.locator("#blend-message .alert.error")).to_contain_text("positive weight")
        await page.locator(".blend-weight").nth(2).fill("20")
        await page.click("button:has-text('Create blend')")
        card = page.locator("#own-voices .voice-card", has_text="Browser blend")
        await expect(card).to_contain_text("50% Heart")
        await expect(page.locator("#blend-message")).to_be_empty()
        voice_id = await card.get_attribute("data-voice-id")
        await expect(card.locator("audio.voice-preview")).to_have_attribute(
            "src", f"/voices/{voice_id}/preview", timeout=120_000
        )
        assert await loaded_duration(card.locator("audio.voice-preview")) > 2.0

        # It is in the TTS voice picker, above the stock voices, with a preview button; and it speaks.
        await card.locator("a.use").click()
        await expect(page).to_have_url(f"{stack.site_url}/tts?voice={voice_id}")
        own = page.locator('#voice optgroup[label="Your voices"] option')
        await expect(own).to_have_text(["Browser blend — blend"])
        assert await page.locator("#voice").input_value() == voice_id
        await page.click("#voice-preview-button")
        await expect(page.locator("#voice-preview")).to_have_attribute("src", f"/voices/{voice_id}/preview")
        await expect(page.locator("#voice-preview-button")).to_have_text("■ Stop", timeout=10_000)
        await page.fill("#text", "A blend of three voices.")
        await page.click("button:has-text('Generate')")
        clip = page.locator("article.clip").first
        await expect(clip).to_have_attribute("data-stage", "done", timeout=LIVENESS_MS)
        assert await loaded_duration(clip.locator("audio")) > 1.0
        await browser.close()
