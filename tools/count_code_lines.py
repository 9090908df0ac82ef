"""Code lines per chapter: logical lines (statements) in the code cells of each
notebooks/NN_*.py (jupytext percent format), the count issue 14's bar uses. A statement
wrapped over several lines (to fit a code cell's width on the page) counts once.

    python tools/count_code_lines.py [REV]   # REV: a git revision to count instead
"""
import io
import subprocess
import tokenize
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def code_lines(text: str) -> int:
    """Logical lines of code (statements and their headers: what Python's tokenizer ends
    with NEWLINE), so that wrapping a long line over several does not change the count."""
    cells, in_code = [], False
    for line in text.splitlines():
        if line.startswith("# %%"):
            in_code = "[markdown]" not in line and "[md]" not in line
            cells.append([])
            continue
        if in_code and cells:
            cells[-1].append(line)
    n = 0
    for cell in cells:
        source = "\n".join(line for line in cell if not line.lstrip().startswith(("%", "!")))
        tokens = tokenize.generate_tokens(io.StringIO(source + "\n").readline)
        n += sum(t.type == tokenize.NEWLINE for t in tokens)
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
