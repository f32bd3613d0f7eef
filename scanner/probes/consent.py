"""The consent banner in a browser visit: find it in every frame of a page, photograph it, and click its
reject or accept option the way a person would, counting the clicks.

The banner is found by `browser_js/banner.js`, run in each frame: known consent platforms by their markup,
then Dutch and English button texts near the word "cookie". When the first layer has no button for the
choice, its settings button is clicked and the choice looked for on the second layer (for reject, saving
the defaults counts: it refuses everything). The browser probe (scanner/probes/browser.py) owns the visit;
this module only works on its page.
"""
from __future__ import annotations

import asyncio
import base64
import time
from importlib import resources

from playwright.async_api import TimeoutError as PlaywrightTimeoutError

BANNER_JS = (resources.files("scanner.probes.browser_js") / "banner.js").read_text(encoding="utf-8")
SCREENSHOT_MAX_BYTES = 300_000


class Banner:
    """The consent banner of one page (a Visit's page), found and clicked in its frames."""

    def __init__(self, page):
        self.page = page

    async def find(self) -> dict | None:
        for frame in self.page.frames:
            try:
                found = await frame.evaluate(BANNER_JS)
            except Exception:
                continue
            if found and any(b["role"] in ("accept", "reject", "settings") for b in found["buttons"]):
                found["frame"] = frame.url[:300]
                found["_frame"] = frame  # the live frame for clicking; dropped before the facts are kept
                return found
        return None

    async def find_for_record(self) -> dict | None:
        """The banner as kept in the facts: with a screenshot, without the live frame."""
        banner = await self.find()
        if banner:
            banner["screenshot_png_b64"] = await self.screenshot(banner)
            del banner["_frame"]
        return banner

    async def screenshot(self, banner: dict) -> str | None:
        try:
            png = await banner["_frame"].locator("[data-govscan-banner]").first.screenshot(type="png", timeout=5000)
        except Exception:
            try:
                png = await self.page.screenshot(type="png", timeout=5000)
            except Exception:
                return None
        return base64.b64encode(png).decode() if len(png) <= SCREENSHOT_MAX_BYTES else None

    async def click(self, banner: dict, role: str) -> dict | None:
        button = next((b for b in banner["buttons"] if b["role"] == role), None)
        if button is None:
            return None
        target = banner["_frame"].locator(f'[data-govscan-btn="{button["id"]}"]').first
        try:
            await target.click(timeout=10000)
        except PlaywrightTimeoutError:  # covered by an overlay, or a page too busy to settle: click in the DOM
            await target.evaluate("element => element.click()", timeout=5000)
        return button

    async def wait(self, seconds: float) -> dict | None:
        deadline = time.monotonic() + seconds
        while True:
            banner = await self.find()
            if banner or time.monotonic() > deadline:
                return banner
            await asyncio.sleep(0.5)

    async def choose(self, choice: str, wait_seconds: float, recorder) -> dict:
        """Click `choice` (reject or accept), waiting up to `wait_seconds` for the banner; the outcome (what
        was clicked, on which layer). `recorder`'s requests are cleared at the click, so that from there on
        they are what happened after the choice."""
        banner = await self.wait(wait_seconds)
        outcome = {"choice": choice, "banner": banner is not None, "clicked": False, "clicks": 0, "path": []}
        if not banner:
            return outcome
        button = await self.click(banner, choice)
        if button is None and any(b["role"] == "settings" for b in banner["buttons"]):
            settings_button = await self.click(banner, "settings")
            outcome["clicks"] += 1
            outcome["path"].append(settings_button["text"])
            await asyncio.sleep(1)
            second = await self.find()
            if second:
                button = await self.click(second, choice)
                if button is None and choice == "reject":
                    button = await self.click(second, "save")  # saving the defaults refuses everything
        if button is not None:
            outcome["clicked"] = True
            outcome["clicks"] += 1
            outcome["path"].append(button["text"])
        outcome["layer"] = outcome["clicks"] if outcome["clicked"] else None
        outcome["clicked_at"] = recorder.seconds()
        recorder.requests = []  # from here on: what happens after the choice
        await asyncio.sleep(0.5)
        outcome["banner_after"] = (await self.find()) is not None
        return outcome
