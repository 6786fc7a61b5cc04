"""What :class:`Emulator` and :class:`EmulatorClient` share: one face, two transports.

The emulator in this process and the client of one in another process must give the
same base URLs for the same root, check scripted items alike and fail
``assert_all_consumed`` with the same message, so that a test (or the pytest plugin)
can take either.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ._faults import Fault
from ._ffm import PREFIX as FFM_PREFIX
from ._friendli import PREFIX as FRIENDLI_PREFIX
from ._model import Reply
from ._monsterapi import PREFIX as MONSTERAPI_PREFIX

__all__ = ["EmulatorFace", "Scripted", "check_items", "unused_message"]

Scripted = tuple[Reply | Fault, str | None]
"""A queued item and the route it is reserved for (None: any route)."""


def check_items(items: Iterable[object]) -> None:
    """Refuse anything but Reply and Fault objects before they are queued.

    Args:
        items: What a test passed to ``queue``.

    Raises:
        TypeError: Naming the type of the first other object.
    """
    for item in items:
        if not isinstance(item, Reply | Fault):
            raise TypeError(f"expected Reply or Fault, got {type(item).__name__}")


def unused_message(left: Sequence[Scripted]) -> str:
    """The failure message of ``assert_all_consumed`` for items left in the queue.

    Args:
        left: The unused items and their routes.

    Returns:
        One line per item.
    """
    lines = [f"  {item!r} (route: {route or 'any'})" for item, route in left]
    return f"{len(left)} queued item(s) were never used:\n" + "\n".join(lines)


class EmulatorFace:
    """The base URLs under :attr:`url` and the checks of the scripting API."""

    @property
    def url(self) -> str:
        """The server root, e.g. ``http://127.0.0.1:PORT``."""
        raise NotImplementedError

    @property
    def queued(self) -> list[Scripted]:
        """The items not consumed yet, each with the route it is reserved for."""
        raise NotImplementedError

    def assert_all_consumed(self) -> None:
        """Fail when scripted items are still queued (a test that scripted more than ran).

        Raises:
            AssertionError: Listing every unused reply or fault and its route.
        """
        left = self.queued
        if left:
            raise AssertionError(unused_message(left))

    @property
    def ffm_base_url(self) -> str:
        """The FFM ``API_URL`` (``{url}/ffm/api``); clients append ``/models/...``."""
        return self.url + FFM_PREFIX

    @property
    def friendli_base_url(self) -> str:
        """Friendli serverless base (``{url}/friendli/serverless/v1``)."""
        return self.url + FRIENDLI_PREFIX + "/serverless/v1"

    @property
    def friendli_dedicated_base_url(self) -> str:
        """Friendli dedicated base (``{url}/friendli/dedicated/v1``)."""
        return self.url + FRIENDLI_PREFIX + "/dedicated/v1"

    @property
    def friendli_container_base_url(self) -> str:
        """Friendli container base (``{url}/friendli/container/v1``; no auth)."""
        return self.url + FRIENDLI_PREFIX + "/container/v1"

    @property
    def monsterapi_base_url(self) -> str:
        """MonsterAPI base (``{url}/monsterapi/v1``)."""
        return self.url + MONSTERAPI_PREFIX + "/v1"

    @property
    def base_urls(self) -> dict[str, str]:
        """Every base URL, keyed by the environment variable the package reads it from."""
        return {
            "FFM_BASE_URL": self.ffm_base_url,
            "FRIENDLI_BASE_URL": self.friendli_base_url,
            "FRIENDLI_DEDICATED_BASE_URL": self.friendli_dedicated_base_url,
            "FRIENDLI_CONTAINER_BASE_URL": self.friendli_container_base_url,
            "MONSTER_API_BASE": self.monsterapi_base_url,
        }
