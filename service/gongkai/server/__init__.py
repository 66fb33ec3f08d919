"""gongkai.server."""
