"""tools/browser_check.py: what its probe writes into a page is read back, and, where a
Chromium is installed, a small page with one short and one long code line is measured."""
import shutil

import pytest

import browser_check


def test_probe_result_is_read_from_the_page():
    dom = ('<html><body data-browser-check=\'{"wide": ["x = 1"], "fits": 77, '
           '"height": 900}\'><p>page</p></body></html>')
    assert browser_check.parse_probe(dom) == {"wide": ["x = 1"], "fits": 77, "height": 900}
    with pytest.raises(RuntimeError, match="did not run the probe"):
        browser_check.parse_probe("<html><body></body></html>")


def test_missing_chromium_is_one_clear_error(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(FileNotFoundError, match="^error: no Chromium found"):
        browser_check.find_chromium()


@pytest.mark.skipif(not any(shutil.which(c) for c in ("chromium", "chromium-browser",
                                                       "google-chrome")),
                    reason="no Chromium installed (apt-get install chromium)")
def test_a_long_line_scrolls_and_a_short_one_does_not(tmp_path):
    cell = ('<div class="cell"><div class="cell_input"><pre style="width: 400px; '
            'overflow-x: auto; font: 16px monospace">{}</pre></div></div>')
    page = tmp_path / "page.html"
    page.write_text("<html><body>" + cell.format("short = 1") + cell.format("y" * 120)
                    + "</body></html>")
    found = browser_check.check_page(page, browser_check.find_chromium(), 1280,
                                     tmp_path / "shot.png")
    assert found["wide"] == ["y" * 120]
    assert 30 < found["fits"] < 50          # 400 px of 16-px monospace: about 40
    assert (tmp_path / "shot.png").stat().st_size > 0
