"""Render the built chapter pages in headless Chromium at a reader's width: a full-page
screenshot of each (kept as build artefacts) and every code cell on show whose lines are
too long for it, so that it would scroll sideways.

    python tools/browser_check.py _build/html                # exit 1 if a cell scrolls
    python tools/browser_check.py _build/html --out _build/screenshots --width 1280

Needs a Chromium (``apt-get install chromium``; ``--chromium`` or ``$CHROMIUM`` names
another binary). The page is loaded from a copy beside it with a small script added,
which measures each code cell after layout and writes what it found into the page;
Chromium's ``--dump-dom`` hands the page back.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bs4 import BeautifulSoup

sys.path.insert(0, str(Path(__file__).resolve().parent))
from check_html import chapters  # noqa: E402

#: Runs after layout: the visible code cells that scroll sideways (their longest line), how
#: many monospace characters a code cell holds, and the page's height.
PROBE = """<script>
window.addEventListener("load", () => {
  const pres = [...document.querySelectorAll("div.cell_input pre")];
  const wide = pres.filter(p => p.offsetParent !== null && p.scrollWidth > p.clientWidth + 1)
    .map(p => p.textContent.split("\\n").reduce((a, b) => (b.length > a.length ? b : a), ""));
  let fits = null;
  const shown = pres.find(p => p.offsetParent !== null);
  if (shown) {
    const span = document.createElement("span");
    span.textContent = "0".repeat(100);
    span.style.visibility = "hidden";
    shown.appendChild(span);
    const style = getComputedStyle(shown);
    const inner = shown.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    fits = Math.floor(inner / (span.getBoundingClientRect().width / 100));
    span.remove();
  }
  const out = {wide, fits, height: document.documentElement.scrollHeight};
  document.body.setAttribute("data-browser-check", JSON.stringify(out));
});
</script>"""


def find_chromium(name: str | None = None) -> str:
    for candidate in (name, os.environ.get("CHROMIUM"), "chromium", "chromium-browser",
                      "google-chrome"):
        if candidate and shutil.which(candidate):
            return shutil.which(candidate)
    raise FileNotFoundError("error: no Chromium found; install it (apt-get install chromium) "
                            "or name it with --chromium or $CHROMIUM")


def _chromium(binary: str, *args: str, timeout: int = 120) -> str:
    cmd = [binary, "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
           "--virtual-time-budget=5000", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout).stdout


def parse_probe(dom: str) -> dict:
    """What :data:`PROBE` wrote into the page ``dom``."""
    body = BeautifulSoup(dom, "html.parser").find("body")
    if body is None or not body.get("data-browser-check"):
        raise RuntimeError("the page did not run the probe (was it loaded?)")
    return json.loads(body["data-browser-check"])


def check_page(page: Path, binary: str, width: int, shot: Path | None) -> dict:
    """Measure one built page at ``width`` pixels; screenshot it to ``shot`` (full height)."""
    html = page.read_text(errors="replace")
    with tempfile.NamedTemporaryFile("w", suffix=".html", dir=page.parent,
                                     prefix=".browser-check-", delete=False) as tmp:
        tmp.write(html.replace("</body>", PROBE + "</body>", 1))
    try:
        found = parse_probe(_chromium(binary, f"--window-size={width},900", "--dump-dom",
                                      Path(tmp.name).as_uri()))
    finally:
        os.unlink(tmp.name)
    if shot is not None:
        height = min(int(found["height"]), 30000)
        shot.parent.mkdir(parents=True, exist_ok=True)
        _chromium(binary, f"--window-size={width},{height}", f"--screenshot={shot}",
                  page.as_uri())
    return found


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("html", nargs="?", default="_build/html", type=Path)
    ap.add_argument("--out", type=Path, default=None,
                    help="folder for the screenshots (default: HTML/../screenshots)")
    ap.add_argument("--width", type=int, default=1280)
    ap.add_argument("--chromium", default=None)
    args = ap.parse_args(argv)
    try:
        binary = find_chromium(args.chromium)
    except FileNotFoundError as e:
        print(e, file=sys.stderr)
        return 2
    out = args.out or args.html.resolve().parent / "screenshots"
    problems, fits = [], set()
    for name in chapters():
        page = args.html / "notebooks" / f"{name}.html"
        if not page.is_file():
            problems.append(f"{name}: no page {page}")
            continue
        found = check_page(page.resolve(), binary, args.width, out / f"{name}.png")
        fits.add(found["fits"])
        for line in found["wide"]:
            problems.append(f"{name}: a code cell scrolls sideways at {args.width} px "
                            f"(holds {found['fits']} characters): {line.strip()[:90]!r}")
    for p in problems:
        print(p, file=sys.stderr)
    print(f"{len(chapters())} chapter pages at {args.width} px, screenshots in {out}; a code "
          f"cell holds {'/'.join(str(f) for f in sorted(fits, key=str))} characters; "
          f"{len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
