"""The MonsterAPI emulator routes, under ``/monsterapi``."""

from __future__ import annotations

from typing import Any

from ._exchange import Route

__all__ = ["PREFIX", "MonsterAPIProvider"]

PREFIX = "/monsterapi"


class MonsterAPIProvider:
    """Routes, error bodies and auth of this provider's emulator."""

    prefix = PREFIX

    def routes(self) -> list[Route]:
        """The endpoints served under ``/monsterapi`` (none yet).

        Returns:
            The routes.
        """
        return []

    def error_body(self, status: int, message: str) -> Any:
        """FastAPI-style error body.

        Args:
            status: The HTTP status.
            message: The error text.

        Returns:
            ``{"detail": message}``.
        """
        del status
        return {"detail": message}

    def authenticate(self, headers: dict[str, str], api_key: str) -> bool:
        """Bearer-token auth.

        Args:
            headers: Request headers (lower-case names).
            api_key: The key the emulator accepts.

        Returns:
            Whether the Authorization header matches.
        """
        return headers.get("authorization") == f"Bearer {api_key}"
