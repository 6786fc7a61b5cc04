"""What :class:`Emulator` and :class:`EmulatorClient` share: one face, two transports.

The emulator in this process and the client of one in another process must give the
same base URLs for the same root, check scripted items alike and fail
``assert_all_consumed`` with the same message, so that a test (or the pytest plugin)
can take either.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Sequence
from typing import Any, overload

from ._faults import Fault
from ._ffm.routes import PREFIX as FFM_PREFIX
from ._friendli.routes import PREFIX as FRIENDLI_PREFIX
from ._model import Reply
from ._monsterapi.routes import PREFIX as MONSTERAPI_PREFIX

__all__ = ["BaseURL", "EmulatorFace", "Scripted", "check_items", "unused_message"]

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


class BaseURL:
    """A read-only attribute of an emulator face: its :attr:`~EmulatorFace.url` plus a path."""

    def __init__(self, path: str, doc: str) -> None:
        """Declare the attribute.

        Args:
            path: What follows the server root.
            doc: The attribute's documentation.
        """
        self.path = path
        self.__doc__ = doc

    @overload
    def __get__(self, face: None, owner: type[Any]) -> BaseURL: ...

    @overload
    def __get__(self, face: EmulatorFace, owner: type[Any]) -> str: ...

    def __get__(self, face: EmulatorFace | None, owner: type[Any]) -> BaseURL | str:
        """The URL on an instance; the descriptor itself on the class."""
        return self if face is None else face.url + self.path


class EmulatorFace(abc.ABC):
    """The base URLs under :attr:`url` and the checks of the scripting API."""

    @property
    @abc.abstractmethod
    def url(self) -> str:
        """The server root, e.g. ``http://127.0.0.1:PORT``."""

    @property
    @abc.abstractmethod
    def queued(self) -> list[Scripted]:
        """The items not consumed yet, each with the route it is reserved for."""

    def assert_all_consumed(self) -> None:
        """Fail when scripted items are still queued (a test that scripted more than ran).

        Raises:
            AssertionError: Listing every unused reply or fault and its route.
        """
        left = self.queued
        if left:
            raise AssertionError(unused_message(left))

    ffm_base_url = BaseURL(
        FFM_PREFIX, "The FFM ``API_URL`` (``{url}/ffm/api``); clients append ``/models/...``."
    )
    friendli_base_url = BaseURL(
        FRIENDLI_PREFIX + "/serverless/v1",
        "Friendli serverless base (``{url}/friendli/serverless/v1``).",
    )
    friendli_dedicated_base_url = BaseURL(
        FRIENDLI_PREFIX + "/dedicated/v1",
        "Friendli dedicated base (``{url}/friendli/dedicated/v1``).",
    )
    friendli_container_base_url = BaseURL(
        FRIENDLI_PREFIX + "/container/v1",
        "Friendli container base (``{url}/friendli/container/v1``; no auth).",
    )
    monsterapi_base_url = BaseURL(
        MONSTERAPI_PREFIX + "/v1", "MonsterAPI base (``{url}/monsterapi/v1``)."
    )

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
