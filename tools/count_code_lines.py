"""Code lines per chapter: non-blank, non-comment lines in the code cells of each
notebooks/NN_*.py (jupytext percent format), the count issue 14's bar uses.

    python tools/count_code_lines.py [REV]   # REV: a git revision to count instead
"""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def code_lines(text: str) -> int:
    n, in_code = 0, False
    for line in text.splitlines():
        if line.startswith("# %%"):
            in_code = "[markdown]" not in line and "[md]" not in line
            continue
        stripped = line.strip()
        if in_code and stripped and not stripped.startswith("#"):
            n += 1
    return n


def main(rev: str | None = None) -> dict:
    counts = {}
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py")):
        if rev:
            shown = subprocess.run(["git", "show", f"{rev}:notebooks/{path.name}"], cwd=ROOT,
                                   capture_output=True, text=True)
            if shown.returncode:
                continue  # the chapter did not exist then
            text = shown.stdout
        else:
            text = path.read_text()
        counts[path.stem] = code_lines(text)
    return counts


if __name__ == "__main__":
    for name, n in main(sys.argv[1] if len(sys.argv) > 1 else None).items():
        print(f"{name:28s} {n:4d}")
