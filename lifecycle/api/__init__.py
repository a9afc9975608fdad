"""The HTTP API (CONTRACT.md §4): a thin FastAPI layer over the application."""

from .app import create_app

__all__ = ["create_app"]
