"""The HTTP API (FastAPI): ``gongkai.server.api.app.create_app`` builds it; ``gongkai serve`` runs it.

This package module imports nothing: the app factory imports the routers, never the other way round.
"""
