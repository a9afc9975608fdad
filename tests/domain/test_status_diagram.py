from pathlib import Path

from lifecycle.domain.machine import mermaid

PAGE = Path(__file__).resolve().parents[2] / "docs" / "activities.md"


def test_the_reference_shows_the_current_status_diagram():
    text = PAGE.read_text()
    assert f"```mermaid\n{mermaid().rstrip()}\n```" in text, (
        "docs/activities.md is stale: run `python scripts/update_status_diagram.py`"
    )
