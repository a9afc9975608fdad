"""The HTTP API (docs/http.md): a thin FastAPI layer over the application (`api.app`).

Nothing is imported here, so that the token store (`api.tokens`), which the command line uses
too, does not load the web stack.
"""
