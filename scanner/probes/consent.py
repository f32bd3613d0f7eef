"""The consent banner in a browser visit: find it in every frame of a page, photograph it, and click its
reject or accept option the way a person would, recording what was clicked and what the click changed.

Two layers find and click a banner:

1. DuckDuckGo's autoconsent (`browser_js/autoconsent.playwright.js` and its rule set
   `autoconsent.rules.json`, version in the script's first line; `make update-autoconsent`). Its content
   script is injected into every frame (and every frame that loads later) and talks to this module through
   the page binding `autoconsentSendMessage`: it asks for its config and rules ("init"), asks us to run its
   rules' snippets in the page ("eval"), and reports "cmpDetected", "popupFound", "optOutResult",
   "optInResult" and "autoconsentDone". It runs with `autoAction: null`, so it only detects until we send
   "optOut" (reject) or "optIn" (accept) to the frame whose popup it found. Cosmetic rules (hiding a banner
   instead of answering it) are off: a hidden banner is no refusal.
2. govscan's own heuristics (`browser_js/banner.js`), for banners no rule knows or answers (hand-made ones): known
   markup, then Dutch and English button texts near the word "cookie", in the document and open shadow
   roots of every frame. When the first layer has no button for the choice, its settings button is clicked
   and the choice looked for on the second layer (for reject, saving the defaults counts).

Autoconsent is tried first; when it finds no open popup, or its opt-out/opt-in fails (or reports success
without a click or a change in what the page stored), the heuristics act.
Every click that reaches a frame is recorded (`browser_js/clicks.js`: text and selector), so the record says
which buttons were pressed whichever layer pressed them; the number of clicks is the layer the choice was on.
Beside the clicks: a screenshot of the banner before the click, whether the click changed the cookies or
localStorage, how many requests followed within half a second, and, when the page has the IAB TCF API
(`__tcfapi`), its CMP and the TC string after the choice, decoded (scanner/probes/tcf.py).

The browser probe (scanner/probes/browser.py) owns the visit; this module only works on its page.
"""
from __future__ import annotations

import asyncio
import base64
import functools
import json
import re
import time
from typing import Any
from importlib import resources

from playwright.async_api import TimeoutError as PlaywrightTimeoutError

from scanner.probes import tcf

JS_DIR = resources.files("scanner.probes.browser_js")
BANNER_JS = (JS_DIR / "banner.js").read_text(encoding="utf-8")
CLICKS_JS = (JS_DIR / "clicks.js").read_text(encoding="utf-8")
TCF_JS = (JS_DIR / "tcf.js").read_text(encoding="utf-8")
AUTOCONSENT_JS = (JS_DIR / "autoconsent.playwright.js").read_text(encoding="utf-8")
AUTOCONSENT_RULES = json.loads((JS_DIR / "autoconsent.rules.json").read_text(encoding="utf-8"))["autoconsent"]
RULES_VERSION = "autoconsent " + re.search(r"@duckduckgo/autoconsent (\S+)", AUTOCONSENT_JS[:200]).group(1)
AUTOCONSENT_CONFIG = {
    "enabled": True, "autoAction": None, "disabledCmps": [], "enablePrehide": False,
    "enableCosmeticRules": False, "enableGeneratedRules": True, "enableHeuristicDetection": False,
    "detectRetries": 20, "isMainWorld": False, "prehideTimeout": 2000, "visualTest": False,
    "logs": {"lifecycle": False, "rulesteps": False, "detectionsteps": False, "evals": False, "errors": False,
             "messages": False, "waits": False},
}
# The CMPs autoconsent implements in code rather than as rules (its `dynamicCMPs`, with BASERULE and HEURISTIC
# among the names, which disabling leaves alone): a consent state disables those its site's first visit did not
# detect, as it leaves out the rules of the others.
CODED_CMPS = tuple(sorted(set(re.findall(r'this\.name = "([^"]+)"', AUTOCONSENT_JS))))
SCREENSHOT_MAX_BYTES = 300_000
MAX_MESSAGES = 300
MAX_EVALS = 200  # a page can post messages to the binding too: its evals run in its own world, but are bounded
# How long a page's CMP may take to show up once autoconsent runs: detection of a CMP's script or markup,
# then of its open popup; and how long its opt-out or opt-in may take (a settings layer, saving, closing).
DETECT_SECONDS, POPUP_SECONDS, ACTION_SECONDS = 2.0, 5.0, 20.0
QUIET_SECONDS = 1.5  # with no CMP detected by then, a banner banner.js found is taken as it is


async def local_storage_keys(page) -> list[tuple[Any, list[str]]]:
    """(frame, its localStorage keys) for every frame of the page whose storage can be read."""
    found = []
    for frame in page.frames:
        try:
            keys = await frame.evaluate("() => { try { return Object.keys(localStorage) } catch (e) { return [] } }")
        except Exception:
            continue
        found.append((frame, keys))
    return found


class Banner:
    """The consent banner of one page (a Visit's page): autoconsent in every frame, banner.js as the fallback."""

    def __init__(self, page, cmps: tuple[str, ...] | None = None):
        """`cmps`: None on a site's first visit (every rule); on the consent states the CMPs that visit
        detected, whose rules alone are sent (none: autoconsent is not injected, banner.js alone acts)."""
        self.page = page
        self.cmps = cmps
        self.autoconsent = cmps != ()
        self.messages: list[tuple[object, dict]] = []  # (frame, message) from autoconsent, in order
        self.answered: set = set()  # frames that got their rules
        self.evals = 0
        self.tasks: set = set()
        self.clicks: list[dict] = []  # reported by clicks.js
        self.started = False

    # --- autoconsent ---

    async def start(self) -> None:
        """Inject autoconsent into every frame, now and as frames load."""
        if self.started:
            return
        self.started = True
        await self.page.expose_binding("__govscanClick", self._on_click)
        if not self.autoconsent:
            return
        await self.page.expose_binding("autoconsentSendMessage", self._on_message)
        self.page.on("framenavigated", self._on_frame)
        for frame in self.page.frames:
            await self._inject(frame)

    def stop(self) -> None:
        if self.started and self.autoconsent:
            self.page.remove_listener("framenavigated", self._on_frame)

    def config(self) -> dict:
        if self.cmps is None:
            return AUTOCONSENT_CONFIG
        return dict(AUTOCONSENT_CONFIG, disabledCmps=[name for name in CODED_CMPS if name not in self.cmps])

    def detected_cmps(self) -> list[str]:
        """The CMPs autoconsent's rules detected in any frame, for the consent states' visits."""
        return sorted({str(m.get("cmp", ""))[:80] for _, m in self.messages if m.get("type") == "cmpDetected"})

    def _on_frame(self, frame) -> None:
        self._spawn(self._inject(frame))

    def _spawn(self, coroutine) -> None:
        task = asyncio.ensure_future(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    @staticmethod
    async def _inject(frame) -> None:
        try:
            await frame.evaluate(AUTOCONSENT_JS + "\n;true")
        except Exception:  # a frame that went away, or a document that runs no script
            pass

    def _on_message(self, source, message) -> None:
        """The binding: answered in a task, so the page's call returns at once."""
        if not isinstance(message, dict) or len(self.messages) >= MAX_MESSAGES:
            return
        frame = source.get("frame")
        kind = message.get("type")
        if kind == "init":
            if frame not in self.answered:
                self.answered.add(frame)
                rules = rules_for(frame.url, frame.parent_frame is None, self.cmps)
                self._spawn(self._send(frame, "({type: 'initResp', config: arg[0], rules: JSON.parse(arg[1])})",
                                       [self.config(), rules]))
        elif kind == "eval" and self.evals < MAX_EVALS:
            self.evals += 1
            self._spawn(self._eval(frame, message))
        elif kind in ("cmpDetected", "popupFound", "optOutResult", "optInResult", "autoconsentDone",
                      "autoconsentError"):
            self.messages.append((frame, message))

    @staticmethod
    async def _send(frame, expression: str, arg=None) -> None:
        try:
            await frame.evaluate(f"(arg) => autoconsentReceiveMessage({expression})", arg)
        except Exception:
            pass

    async def _eval(self, frame, message: dict) -> None:
        """A rule's snippet, run in the page's world (autoconsent's own code, from the vendored bundle)."""
        try:
            result = bool(await frame.evaluate(str(message.get("code", ""))))
        except Exception:
            result = False
        await self._send(frame, "({type: 'evalResp', id: arg[0], result: arg[1]})",
                         [str(message.get("id", ""))[:100], result])

    def _found(self, kind: str) -> tuple[object, dict] | None:
        return next(((f, m) for f, m in self.messages if m.get("type") == kind), None)

    async def _autoconsent_action(self, frame, choice: str) -> bool:
        kind = "optOut" if choice == "reject" else "optIn"
        await self._send(frame, f"({{type: '{kind}'}})")
        deadline = time.monotonic() + ACTION_SECONDS
        while time.monotonic() < deadline:
            result = self._found(kind + "Result")
            if result:
                return bool(result[1].get("result"))
            await asyncio.sleep(0.2)
        return False

    # --- banner.js, the fallback ---

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

    # --- both ---

    async def detect(self, seconds: float) -> dict | None:
        """The banner within `seconds` (at least DETECT_SECONDS, so autoconsent can answer): autoconsent's
        platform when a rule found its open popup (waited for up to POPUP_SECONDS once a rule detected its CMP),
        else banner.js's; with banner.js's buttons (and its marking for the screenshot) either way."""
        await self.start()
        start = time.monotonic()
        while True:
            found = self._found("popupFound")
            waited = time.monotonic() - start
            # a rule knows this CMP: give its popup time to open, even when banner.js sees a banner
            popup_pending = self._found("cmpDetected") and waited < max(seconds, POPUP_SECONDS)
            if found or (not popup_pending and waited >= QUIET_SECONDS):
                banner = await self.find()  # asked only once its answer can end the wait
                if found or banner or waited >= max(seconds, DETECT_SECONDS):
                    break
            await asyncio.sleep(0.25)
        if not found and not banner:
            return None
        banner = banner or {"platform": None, "buttons": [], "text": ""}
        banner["rules"] = RULES_VERSION
        if found:
            frame, message = found
            banner.update(platform=str(message.get("cmp", ""))[:80], detected_by="autoconsent",
                          frame=frame.url[:300], _popup_frame=frame)
            banner.setdefault("_frame", frame)
        else:
            banner["detected_by"] = "heuristics"
        banner["tcf"] = await self.tcf()
        return banner

    async def find_for_record(self, seconds: float = 0) -> dict | None:
        """The banner as kept in the facts: with a screenshot, without the live frames."""
        banner = await self.detect(seconds)
        self.stop()
        if banner:
            banner["screenshot_png_b64"] = await self.screenshot(banner)
            banner["cmps_detected"] = self.detected_cmps()
        return _plain(banner)

    async def screenshot(self, banner: dict) -> str | None:
        png = None
        try:
            marked = banner["_frame"].locator("[data-govscan-banner]").first
            if await marked.count():
                png = await marked.screenshot(type="png", timeout=5000)
        except Exception:
            pass
        try:
            png = png or await self.page.screenshot(type="png", timeout=5000)
        except Exception:
            return None
        return base64.b64encode(png).decode() if len(png) <= SCREENSHOT_MAX_BYTES else None

    async def tcf(self) -> dict | None:
        """The TCF API's CMP and TC string (decoded) in the main frame, or None without one."""
        try:
            answer = await self.page.main_frame.evaluate(TCF_JS)
        except Exception as exc:
            return {"error": str(exc).split("\n")[0][:200]}
        if not isinstance(answer, dict):
            return None
        if "error" in answer:
            return {"error": str(answer["error"])[:200]}
        record = {"cmp_id": _int(answer.get("cmpId")), "cmp_version": _int(answer.get("cmpVersion")),
                  "tc_string": str(answer.get("tcString") or "")[:2000], "event_status": str(answer.get("eventStatus"))[:40]}
        if record["tc_string"]:
            try:
                record["decoded"] = tcf.decode(record["tc_string"])
            except tcf.TCStringError as exc:
                record["decode_error"] = str(exc)
        return record

    def _on_click(self, source, click) -> None:
        if isinstance(click, dict) and len(self.clicks) < 50:
            self.clicks.append({"text": str(click.get("text", ""))[:80], "selector": str(click.get("selector", ""))[:300],
                                "frame": source["frame"].url[:300]})

    async def _stored(self) -> dict:
        """What the page has stored: cookie names and localStorage keys per frame."""
        cookies = sorted({f'{c["name"]}@{c["domain"]}' for c in await self.page.context.cookies()})
        storage = [f"{key}@{frame.url[:100]}" for frame, keys in await local_storage_keys(self.page)
                   for key in keys[:100]]
        return {"cookies": cookies, "local_storage": sorted(storage)}

    async def choose(self, choice: str, wait_seconds: float, recorder) -> dict:
        """Click `choice` (reject or accept), waiting up to `wait_seconds` for the banner; the outcome (how it was
        found, what was clicked, on which layer, what it changed). `recorder`'s requests are cleared at the
        click, so that from there on they are what happened after the choice."""
        banner = await self.detect(wait_seconds)
        outcome = {"choice": choice, "banner": banner is not None, "clicked": False, "clicks": 0, "path": [],
                   "rules": RULES_VERSION}
        if not banner:
            self.stop()
            return outcome
        outcome.update(platform=banner.get("platform"), detected_by=banner["detected_by"])
        outcome["screenshot_png_b64"] = await self.screenshot(banner)
        for frame in self.page.frames:
            try:
                await frame.evaluate(CLICKS_JS)
            except Exception:
                continue
        before = await self._stored()
        clicked_at = recorder.seconds()
        acted_by = None
        if "_popup_frame" in banner and await self._autoconsent_action(banner["_popup_frame"], choice):
            await asyncio.sleep(0.2)  # clicks.js's last report
            # a rule that reports success but clicked nothing and changed nothing did not answer the banner
            if self.clicks or await self._stored() != before:
                acted_by = "autoconsent"
        if acted_by is None:
            if await self._heuristic_click(banner, choice, outcome):
                acted_by = "heuristics"
        await asyncio.sleep(0.2)  # clicks.js's last report
        buttons = outcome["buttons"] = list(self.clicks)
        if acted_by == "autoconsent":
            outcome["clicked"] = True
            outcome["clicks"] = max(len(buttons), 1)
            outcome["path"] = [b["text"] for b in buttons]
            outcome["through_api"] = not buttons  # the rule answered through the CMP's own API, clicking nothing
        elif acted_by == "heuristics":
            outcome["clicked"] = True
        outcome["acted_by"] = acted_by
        outcome["layer"] = outcome["clicks"] if outcome["clicked"] else None
        outcome["clicked_at"] = clicked_at
        recorder.requests = []  # from here on: what happens after the choice
        await asyncio.sleep(0.5)
        after = await self._stored()
        outcome["effect"] = {
            "cookies_added": sorted(set(after["cookies"]) - set(before["cookies"]))[:50],
            "cookies_removed": sorted(set(before["cookies"]) - set(after["cookies"]))[:50],
            "local_storage_added": sorted(set(after["local_storage"]) - set(before["local_storage"]))[:50],
            "requests_within_half_second": len(recorder.requests),
        }
        outcome["effect"]["changed"] = any(outcome["effect"][k] for k in outcome["effect"])
        outcome["tcf"] = await self.tcf()
        self.stop()
        outcome["banner_after"] = (await self.find()) is not None or self._popup_still_open()
        return outcome

    def _popup_still_open(self) -> bool:
        """Whether autoconsent's last word on the popup is that it was found, not answered."""
        kinds = [m.get("type") for _, m in self.messages]
        return "popupFound" in kinds and not any(k in ("optOutResult", "optInResult") for k in kinds)

    async def _heuristic_click(self, banner: dict, choice: str, outcome: dict) -> bool:
        """banner.js's buttons: the choice on the first layer, else through the settings layer."""
        if not banner.get("buttons"):
            banner = await self.find() or banner
            if not banner.get("buttons"):
                return False
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
        if button is None:
            return False
        outcome["clicks"] += 1
        outcome["path"].append(button["text"])
        return True


def _rule_contexts() -> list[tuple[bool, bool, re.Pattern | None]]:
    """Per rule: whether it runs in the main frame, in other frames, and its urlPattern compiled once (there
    are more patterns than the re module's cache holds, so compiling them per frame cost 27 ms a frame)."""
    contexts = []
    for rule in AUTOCONSENT_RULES:
        context = {"main": True, "frame": False, "urlPattern": "", **rule.get("runContext", {})}
        try:
            pattern = re.compile(context["urlPattern"]) if context["urlPattern"] else None
        except re.error:  # a pattern Python reads differently: let autoconsent decide
            pattern = None
        contexts.append((bool(context["main"]), bool(context["frame"]), pattern))
    return contexts


RULE_CONTEXTS = _rule_contexts()


def rules_for(url: str, main_frame: bool, cmps: tuple[str, ...] | None = None) -> str:
    """The rules that can run in a frame (their runContext: main frame or not, urlPattern), as JSON: autoconsent
    filters them itself too, but sending all 800 to every frame makes detection slow. With `cmps`, only the
    rules of those CMPs (a consent state needs no others: the site's first visit found its CMP)."""
    return _rules_json(tuple(index for index, (main, frame, pattern) in enumerate(RULE_CONTEXTS)
                             if (main if main_frame else frame) and (pattern is None or pattern.search(url))
                             and (cmps is None or AUTOCONSENT_RULES[index]["name"] in cmps)))


@functools.lru_cache(maxsize=64)
def _rules_json(indices: tuple[int, ...]) -> str:
    """Most frames of a run get the same rules: encoded once."""
    return json.dumps({"autoconsent": [AUTOCONSENT_RULES[index] for index in indices]})


def _int(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 1 << 16 else None


def _plain(banner: dict | None) -> dict | None:
    """The record without live Playwright objects."""
    return None if banner is None else {k: v for k, v in banner.items() if not k.startswith("_")}

