"""Writes the status diagram, rendered from the state machine, into docs/activities.md."""

from __future__ import annotations

import sys
from pathlib import Path

from lifecycle.domain.machine import mermaid

PAGE = Path(__file__).resolve().parent.parent / "docs" / "activities.md"
START, END = "<!-- status-diagram:start -->", "<!-- status-diagram:end -->"


def rendered_block() -> str:
    return f"{START}\n```mermaid\n{mermaid().rstrip()}\n```\n{END}"


def main() -> int:
    text = PAGE.read_text()
    before, rest = text.split(START, 1)
    _, after = rest.split(END, 1)
    PAGE.write_text(before + rendered_block() + after)
    print(f"updated the status diagram in docs/{PAGE.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
