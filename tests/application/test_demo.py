import json
from pathlib import Path

import pytest

from lifecycle.bootstrap import main


def run_demo(folder: Path, capsys: pytest.CaptureFixture[str], seed: int) -> dict[str, object]:
    url = f"sqlite:///{folder}/demo.db"
    args = ["demo", "--days", "10", "--seed", str(seed), "--json", "--database-url", url]
    assert main(args) == 0
    body: dict[str, object] = json.loads(capsys.readouterr().out)
    summary = body["summary"]
    assert isinstance(summary, dict)
    summary.pop("seconds")
    return body


def test_the_demo_tells_the_same_story_for_the_same_seed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()

    first = run_demo(tmp_path / "a", capsys, seed=3)
    second = run_demo(tmp_path / "b", capsys, seed=3)

    assert first == second
    summary = first["summary"]
    assert isinstance(summary, dict)
    assert summary["leads"] > 30
    assert summary["timers_fired"] > 0
    assert set(first["reports"]) == {"status", "funnel", "sla", "activity", "attribution"}  # type: ignore[arg-type]
