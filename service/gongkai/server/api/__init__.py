"""The HTTP API (FastAPI): ``create_app`` builds it; ``gongkai serve`` runs it under uvicorn."""

from gongkai.server.api.app import create_app

__all__ = ["create_app"]
