"""The installed package's version, shown by /healthz and the OpenAPI document."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version


def package_version() -> str:
    try:
        return version("gongkai")
    except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "0+unknown"
