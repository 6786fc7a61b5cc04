""":class:`EmulatorClient`: script an emulator that runs in another process.

The standalone server (``python -m langchain_ffm_friendli.testing``) serves an app under
test in another process; its tests script it over the control API under
``/_emulator/``. This client gives them the scripting methods of :class:`Emulator`
(``queue``, ``queued``, ``requests``, ``reset``, ``pending``, ``assert_all_consumed``,
the base URLs), with the same :class:`Reply` and :class:`Fault` objects; starting,
stopping and connection counts stay with the server's own process.
"""

from __future__ import annotations

import os
from typing import Any

import httpx

from langchain_ffm_friendli._secrets import redact_url

from ._control import CONTROL_PREFIX, item_from_json, item_to_json, request_from_json
from ._exchange import RecordedRequest
from ._face import EmulatorFace, Scripted, check_items
from ._faults import Fault
from ._model import Reply

__all__ = ["URL_ENV", "EmulatorClient"]

#: The variable the standalone server prints its root URL in, read by
#: :class:`EmulatorClient` and the pytest plugin.
URL_ENV = "LCFF_EMULATOR_URL"


class EmulatorClient(EmulatorFace):
    """The control API of a running emulator, with the scripting methods of :class:`Emulator`.

    Every call is one HTTP request on a fresh connection (closed after the answer),
    so the client never holds a connection the emulator's counts would see.

    Example:
        .. code-block:: python

            emulator = EmulatorClient("http://127.0.0.1:8787")  # or LCFF_EMULATOR_URL
            emulator.reset()
            emulator.queue(Reply(text="hello"), Fault.status(429, retry_after="1"))
            ...  # drive the app under test, which calls the emulator
            assert emulator.requests[-1].route == "friendli.chat"
            emulator.assert_all_consumed()
    """

    def __init__(self, url: str | None = None, *, timeout: float = 10.0) -> None:
        """Point at a running emulator.

        Args:
            url: Its root, e.g. ``http://127.0.0.1:8787``; None reads
                ``LCFF_EMULATOR_URL`` (the standalone server prints it).
            timeout: Seconds to wait for each control answer.

        Raises:
            ValueError: If no URL is given or set, or it is not an http(s) URL.
        """
        url = url if url is not None else os.environ.get(URL_ENV, "")
        if not url:
            raise ValueError(
                f"url: missing; pass EmulatorClient(url) or set {URL_ENV} "
                "(python -m langchain_ffm_friendli.testing prints it)"
            )
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"url: must start with http:// or https://; got {redact_url(url)!r}")
        self._url = url.rstrip("/")
        self._timeout = timeout
        self._info: dict[str, Any] | None = None

    def __repr__(self) -> str:
        return f"EmulatorClient({redact_url(self._url)!r})"

    @property
    def url(self) -> str:
        """The emulator's root URL."""
        return self._url

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        """One control request; its JSON answer."""
        target = f"{self._url}{CONTROL_PREFIX}{path}"
        try:
            response = httpx.request(
                method,
                target,
                json=body,
                headers={"connection": "close"},
                timeout=self._timeout,
                trust_env=False,  # loopback: a proxy from the environment must not apply
            )
        except httpx.HTTPError as exc:
            where = redact_url(self._url)
            raise ConnectionError(f"no emulator answers at {where}: {exc!r}") from None
        try:
            payload = response.json()
        except ValueError:
            payload = None
        if response.status_code == 400 and isinstance(payload, dict):
            raise ValueError(f"the emulator refused it: {payload.get('error')}")
        if response.status_code != 200 or not isinstance(payload, dict):
            raise RuntimeError(
                f"{method} {CONTROL_PREFIX}{path} answered {response.status_code}; is "
                f"{redact_url(self._url)} a langchain_ffm_friendli emulator?"
            )
        return payload

    # ----------------------------------------------------------- the same API

    def queue(self, *items: Reply | Fault, route: str | None = None) -> None:
        """Script the next answers, as :meth:`Emulator.queue` does.

        Args:
            *items: Replies and faults, in the order requests should get them.
            route: Reserve them for one route (e.g. ``"friendli.chat"``).

        Raises:
            TypeError: If an item is neither a Reply nor a Fault.
            ValueError: If the emulator refuses the items (unknown route...).
        """
        check_items(items)
        body: dict[str, Any] = {"items": [item_to_json(item) for item in items]}
        if route is not None:
            body["route"] = route
        self._call("POST", "/queue", body)

    @property
    def pending(self) -> int:
        """How many queued items have not been consumed yet."""
        return int(self._call("GET", "/pending")["pending"])

    @property
    def queued(self) -> list[Scripted]:
        """The items not consumed yet, each with the route it is reserved for."""
        entries = self._call("GET", "/queue")["items"]
        return [(item_from_json(entry), entry.get("route")) for entry in entries]

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received since the last reset (credential headers masked)."""
        entries = self._call("GET", "/requests")["requests"]
        return [request_from_json(entry) for entry in entries]

    def reset(self) -> None:
        """Clear the queue and the request log."""
        self._call("POST", "/reset")

    @property
    def running(self) -> bool:
        """Whether the emulator answers."""
        try:
            self._call("GET", "/pending")
        except ConnectionError:
            return False
        return True

    def _described(self) -> dict[str, Any]:
        """The emulator's ``GET /_emulator/info`` (fetched once)."""
        if self._info is None:
            self._info = self._call("GET", "/info")
        return self._info

    @property
    def api_key(self) -> str:
        """The key the emulator accepts (a test value, printed by the server too)."""
        return str(self._described()["api_key"])

    @property
    def known_models(self) -> dict[str, list[str]]:
        """The model ids each provider accepts."""
        models: dict[str, list[str]] = self._described()["known_models"]
        return models

    @property
    def route_names(self) -> frozenset[str]:
        """The names ``queue(route=...)`` takes."""
        return frozenset(self._described()["routes"])
