"""Where the service keeps its data and its rules, as every process of it reads them: the
database URL and the rulebook file (handed to the processes it starts with `as_env`).

Explicit values (command-line options) first, then the environment (`LIFECYCLE_DATABASE_URL`,
`LIFECYCLE_CONFIG`), then the defaults: a SQLite file in the working directory and the
built-in rules.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DATABASE_URL = "sqlite:///lifecycle.db"


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    config_path: Path | None = None

    @classmethod
    def from_env(cls, database_url: str | None = None, config: str | None = None) -> Settings:
        """Explicit values first, then LIFECYCLE_DATABASE_URL / LIFECYCLE_CONFIG, then defaults."""
        url = database_url or os.environ.get("LIFECYCLE_DATABASE_URL") or DEFAULT_DATABASE_URL
        path = config or os.environ.get("LIFECYCLE_CONFIG")
        return cls(url, Path(path) if path else None)

    def as_env(self) -> dict[str, str]:
        """These settings as the environment `from_env` reads (for processes started here)."""
        env = {"LIFECYCLE_DATABASE_URL": self.database_url}
        if self.config_path is not None:
            env["LIFECYCLE_CONFIG"] = str(self.config_path.resolve())
        return env
