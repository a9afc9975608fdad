"""The interactive docs work offline: /docs and /redoc load every script, style and icon from
the app itself (fastapi-offline ships them), never from a CDN."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from lifecycle.api.app import DOCS_ASSETS

PAGES = ["/docs", "/redoc"]
REFERENCE = re.compile(r"""(?:src|href)\s*=\s*["']([^"']*)["']|\burl:\s*'([^']*)'""")
CONTENT_TYPES = {".js": "javascript", ".css": "text/css", ".png": "image/png"}


def references(html: str) -> list[str]:
    """Every URL the page loads: `src`, `href`, and Swagger UI's `url:` (the document)."""
    return [a or b for a, b in REFERENCE.findall(html)]


@pytest.mark.parametrize("page", PAGES)
def test_a_docs_page_names_no_other_host(client: TestClient, page: str):
    answer = client.get(page)

    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/html")
    html = answer.text
    assert "http://" not in html
    assert "https://" not in html
    found = references(html)
    assert found, html
    for url in found:
        assert url.startswith("/"), url
        assert not url.startswith("//"), url  # a protocol-relative URL is another host too


@pytest.mark.parametrize("page", PAGES)
def test_every_asset_a_docs_page_loads_is_served_by_the_app(client: TestClient, page: str):
    found = references(client.get(page).text)
    assets = [url for url in found if url.startswith(f"{DOCS_ASSETS}/")]
    assert {url.rpartition(".")[2] for url in assets} >= {"js", "png"}
    assert "/openapi.json" in found or page == "/redoc"

    for url in found:
        answer = client.get(url)
        assert answer.status_code == 200, url
        assert answer.content, url
        suffix = "." + url.rpartition(".")[2]
        if suffix in CONTENT_TYPES:
            assert CONTENT_TYPES[suffix] in answer.headers["content-type"], url


def test_the_redoc_page_loads_the_openapi_document_from_the_app(client: TestClient):
    html = client.get("/redoc").text

    [spec] = re.findall(r'spec-url="([^"]*)"', html)
    assert spec == "/openapi.json"
    assert client.get(spec).status_code == 200


def test_swagger_ui_does_not_ask_swagger_io_to_validate_the_document(client: TestClient):
    assert '"validatorUrl": null' in client.get("/docs").text


def test_an_unknown_asset_is_the_error_json_404(client: TestClient):
    answer = client.get(f"{DOCS_ASSETS}/nothing.js")

    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "not_found"
