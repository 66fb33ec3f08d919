"""The HTTP routes, one router per resource; ``app.py`` includes them in this order."""

from fastapi import APIRouter

from gongkai.server.api.routes import agencies, batches, documents, keys, operations, review

ROUTERS: tuple[APIRouter, ...] = (
    documents.router,
    review.router,
    keys.router,
    operations.router,
    batches.router,
    agencies.router,
)

__all__ = ["ROUTERS"]
