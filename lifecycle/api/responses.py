"""A JSON response rendered by `views.dumps`: the same bytes as the CLI's `--json`."""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response

from ..app.views import dumps_bytes, plain


class JsonBody(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        try:
            return dumps_bytes(content)
        except TypeError:  # orjson stops at 64-bit integers (a plan for an absurd goal)
            return json.dumps(plain(content), separators=(",", ":")).encode()
