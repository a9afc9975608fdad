"""Two runners meeting a projection with no position yet do not collide."""

import threading

from sqlalchemy import Engine

from lifecycle.app.recording import Submission
from lifecycle.bootstrap import Settings, build
from lifecycle.projections.positions import positions


def test_runners_starting_together_on_a_fresh_database_both_succeed(database_url: str) -> None:
    first, second = build(Settings(database_url)), build(Settings(database_url))
    first.ledger.record(Submission(None, {"type": "created", "email": "x@example.com"}, "test"))
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def catch_up(engine_owner: object) -> None:
        try:
            barrier.wait()
            engine_owner.runner.catch_up()  # type: ignore[attr-defined]
        except BaseException as error:
            errors.append(error)

    try:
        threads = [threading.Thread(target=catch_up, args=(s,)) for s in (first, second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert _positions(first.engine) == {name: first.runner.head() for name in
                                            first.runner.projections}  # fmt: skip
    finally:
        first.close()
        second.close()


def _positions(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {row.name: row.position for row in conn.execute(positions.select())}
