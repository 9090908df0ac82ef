"""Code cells must not scroll sideways on the page. ``make browser-check`` measured what a
code cell of the built book holds at 1280 px (sphinx-book-theme 1.3, both sidebars
shown): 77 characters. Lines longer than that scroll. Cells whose code is removed from the
page (``remove-cell``, ``remove-input``) do not count; hidden ones (``hide-input``) do,
since a reader can open them, and they hold less: opened, their code sits inside the
toggle's indented box, where ``make browser-check`` found lines of 76 characters
scrolling, so they are held to 75.

The chapters' code was first written to about 100 characters and has since been
rewrapped: every chapter now holds no shown code line over 77 characters, and this test
keeps it so (each count below is 0)."""
import re

import pytest

from conftest import ROOT

#: Characters a code cell shows at 1280 px (tools/browser_check.py, `fits`).
MAX_CHARS = 77
#: Characters an opened ``hide-input`` cell shows (narrower: the toggle's box).
MAX_CHARS_HIDDEN = 75
#: Lines longer than MAX_CHARS allowed in each chapter's shown code: none in any.
LONG_LINES_NOW = {"01_data_tour": 0, "02_image_cnn": 0, "03_st_t_dense_rnn": 0,
                  "04_spectrogram_cnn": 0, "05_smote_spectrogram_cnn": 0,
                  "06_beat_1d_cnn": 0, "07_new_patients": 0, "08_comparison": 0,
                  "09_own_recording": 0}
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py"))


def long_lines(path, limit=MAX_CHARS, hidden_limit=MAX_CHARS_HIDDEN):
    """``(line number, line)`` of each code line the page shows that is over ``limit``
    (``hidden_limit`` in a ``hide-input`` cell)."""
    found, number = [], 0
    for cell in re.split(r"^(?=# %%)", path.read_text(), flags=re.M):
        head, _, body = cell.partition("\n")
        shown = head.startswith("# %%") and "[markdown]" not in head and not re.search(
            r"remove-(cell|input)", head)
        if shown:
            most = hidden_limit if "hide-input" in head else limit
            found += [(number + 2 + i, line) for i, line in enumerate(body.splitlines())
                      if len(line) > most]
        number += cell.count("\n")
    return found


def test_long_lines_are_found(tmp_path):
    nb = tmp_path / "99_demo.py"
    nb.write_text('# %% [markdown]\n# ' + "x" * 90 + '\n\n# %%\nshort = 1\nlong = "'
                  + "y" * 80 + '"\n\n# %% tags=["remove-input"]\nhidden = "' + "z" * 80 + '"\n')
    assert [n for n, _ in long_lines(nb)] == [6]
    nb.write_text('# %% tags=["hide-input"]\nx = "' + "y" * 71 + '"\n')  # 76 characters
    assert [n for n, _ in long_lines(nb)] == [2]
    assert long_lines(nb, hidden_limit=77) == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_chapter_gains_lines_that_scroll(path):
    found = long_lines(path)
    allowed = LONG_LINES_NOW.get(path.stem, 0)
    assert len(found) <= allowed, (
        f"{path.name}: {len(found)} code lines over {MAX_CHARS} characters (at most "
        f"{allowed}); they scroll sideways at 1280 px: "
        + "; ".join(f"line {n}" for n, _ in found[:10]))
