"""Several processes starting at once on one empty database all come up."""

import threading

from lifecycle.app.recording import Submission
from lifecycle.bootstrap import Settings, build


def test_four_services_built_at_once_on_an_empty_database_all_start(database_url: str) -> None:
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []
    built = []

    def start() -> None:
        try:
            barrier.wait()
            built.append(build(Settings(database_url)))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert errors == []
        assert len(built) == 4
        built[0].ledger.record(
            Submission(None, {"type": "created", "email": "z@example.com"}, "test")
        )
        assert built[3].ledger.find("z@example.com").version == 1
    finally:
        for services in built:
            services.close()
