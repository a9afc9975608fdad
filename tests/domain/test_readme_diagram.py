from pathlib import Path

from lifecycle.domain.machine import mermaid

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readme_shows_the_current_status_diagram():
    text = README.read_text()
    assert f"```mermaid\n{mermaid().rstrip()}\n```" in text, (
        "README.md is stale: run `python scripts/update_readme_diagram.py`"
    )
