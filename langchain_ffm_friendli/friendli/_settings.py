"""Friendli settings shared by ChatFriendli and FriendliLLM.

One place decides the endpoint kind (serverless, dedicated, container), the base
URL, the Bearer token (optional for containers) and the ``X-Friendli-Team``
header, so chat and completions can never disagree about them.
"""

from __future__ import annotations

import os
from typing import Any, Literal

from pydantic import Field, model_validator

from langchain_ffm_friendli._base import ProviderSettings
from langchain_ffm_friendli._tokens import estimate_tokens
from langchain_ffm_friendli.errors import NotFoundError
from langchain_ffm_friendli.friendli import _protocol as proto

__all__ = ["DEDICATED_URL", "SERVERLESS_URL", "FriendliClientSettings"]

SERVERLESS_URL = "https://api.friendli.ai/serverless/v1"
DEDICATED_URL = "https://api.friendli.ai/dedicated/v1"
CONTAINER_URL = "http://localhost:8000/v1"
# endpoint -> (its own base URL variable, its default): an explicit endpoint reads its
# own variable first, then FRIENDLI_BASE_URL, then the product's URL.
_ENDPOINT_URLS = {
    "dedicated": ("FRIENDLI_DEDICATED_BASE_URL", DEDICATED_URL),
    "container": ("FRIENDLI_CONTAINER_BASE_URL", CONTAINER_URL),
}

Endpoint = Literal["serverless", "dedicated", "container"]


class FriendliClientSettings(ProviderSettings):
    """Where and how to reach Friendli.

    ``endpoint`` picks the product: ``serverless`` (model = model code),
    ``dedicated`` (model = endpoint id, optionally ``ID:ADAPTER``) or
    ``container`` (your own host, ``{host}/v1``, no token needed). When not given
    it is inferred from ``base_url``.

    The base URL is ``base_url`` when given; else, for ``endpoint="dedicated"`` or
    ``"container"``, ``FRIENDLI_DEDICATED_BASE_URL`` / ``FRIENDLI_CONTAINER_BASE_URL``;
    else ``FRIENDLI_BASE_URL``; else the product's public URL (a container's is
    ``http://localhost:8000/v1``).
    """

    provider_name = proto.PROVIDER
    api_key_env = "FRIENDLI_TOKEN"
    base_url_env = "FRIENDLI_BASE_URL"
    default_base_url = SERVERLESS_URL

    endpoint: Endpoint | None = None
    """serverless, dedicated or container (inferred from base_url when None)."""
    team_id: str | None = Field(default_factory=lambda: os.environ.get("FRIENDLI_TEAM"))
    """Sent as ``X-Friendli-Team``; from ``FRIENDLI_TEAM`` when not given."""

    @model_validator(mode="before")
    @classmethod
    def _endpoint_defaults(cls, values: Any) -> Any:
        if isinstance(values, dict) and not values.get("base_url"):
            env, default = _ENDPOINT_URLS.get(values.get("endpoint") or "", ("", ""))
            if env:
                url = os.environ.get(env) or os.environ.get(cls.base_url_env) or default
                values = {**values, "base_url": url}
        return values

    @model_validator(mode="after")
    def _infer_endpoint(self) -> FriendliClientSettings:
        if self.endpoint is None:
            self.endpoint = proto.infer_endpoint(self.base_url)
        return self

    def _auth_headers(self) -> dict[str, str]:
        """The Bearer token (optional for containers) and ``X-Friendli-Team``."""
        auth: dict[str, str] = {}
        if self.endpoint == "container" and self.api_key is None:
            pass  # containers authenticate when launched, not per request
        else:
            auth["Authorization"] = f"Bearer {self._secret()}"
        if self.team_id:
            auth["X-Friendli-Team"] = self.team_id
        return auth

    def get_num_tokens(self, text: str) -> int:
        """Count the tokens of ``text`` exactly, with Friendli's tokenizer.

        Sends ``POST {base_url}/tokenize`` with ``{"model", "prompt"}`` and counts the
        ``tokens`` it answers (protocols/friendli.md §1.1: ``/serverless/v1/tokenize``,
        ``/dedicated/v1/tokenize``, a container's ``/v1/tokenize``). This is one HTTP
        request per call, with the usual retries.

        Falls back to the offline estimate (``_tokens.estimate_tokens``) only when the
        route answers 404 (e.g. a deployment without the tokenize route); any other
        error (401, 422, 5xx, connection) is raised as usual. Chat templates add a few
        tokens per message that this does not see: ``get_num_tokens_from_messages``
        stays an offline estimate (no request).

        Args:
            text: Any text.

        Returns:
            The number of token ids Friendli's tokenizer produces for ``text``.
        """
        if not text:
            return 0
        request = self._request("tokenize", proto.tokenize_body(self.model, text))
        try:
            count = self._post(request, proto.parse_tokenize)
        except NotFoundError:
            return estimate_tokens(text)
        return count
