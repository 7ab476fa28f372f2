"""Headless Chromium driven by Playwright: sign in, and keep a screenshot to look at."""

from __future__ import annotations

from pathlib import Path

CHROMIUM = "/usr/bin/chromium"


ARTIFACTS = Path(__file__).parents[2] / "test-artifacts" / "dashboard"


def sign_in(page, url: str, token: str) -> None:
    page.goto(f"{url}/")
    page.fill("#key", token)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{url}/")


def screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
