"""Render the demo rewards' hand-written SVGs (static/img/rewards/*.svg) to the PNGs the demo
attaches (the upload store takes raster images only). Run after editing a drawing:

    .venv/bin/python scripts/render_reward_pictures.py

Uses the Chromium the browser tests use; the kind icons (kind-*.svg) are served as SVG."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import sync_playwright

FOLDER = Path(__file__).resolve().parent.parent / "static" / "img" / "rewards"


def main() -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium")
        page = browser.new_page(viewport={"width": 480, "height": 270})
        for drawing in sorted(FOLDER.glob("*.svg")):
            if drawing.name.startswith("kind-"):
                continue
            page.set_content(f"<html><body style='margin:0'>{drawing.read_text()}</body></html>")
            page.locator("svg").screenshot(path=str(drawing.with_suffix(".png")))
            print(drawing.with_suffix(".png").relative_to(FOLDER.parent.parent.parent))
        browser.close()


if __name__ == "__main__":
    main()
