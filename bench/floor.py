"""The floor a libcst tool cannot beat: one process that parses each file and regenerates its code.

Usage: python bench/floor.py FOLDER
"""

import sys
from pathlib import Path

import libcst


def main(folder: str) -> int:
    regenerated = 0
    for path in sorted(Path(folder).rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        # regenerating checks nothing was lost, as a codemod's output would be written
        regenerated += libcst.parse_module(text).code == text
    return regenerated


if __name__ == "__main__":
    print(main(sys.argv[1]))
