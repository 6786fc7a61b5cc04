"""``init_chat_model`` for this package's providers.

LangChain's own ``langchain.chat_models.init_chat_model`` picks the class from a
fixed table inside langchain (``_BUILTIN_PROVIDERS``, no registration hook in
langchain 1.5), so ``"friendli:..."`` can never reach these classes through it.
This helper accepts the same ``"provider:model"`` strings for ours.

Only the chosen provider's class is imported, on the first call that names it,
so ``init_chat_model("friendli:...")`` never builds ``ChatFFM`` or
``ChatMonsterAPI``.
"""

from __future__ import annotations

import difflib
from importlib import import_module
from typing import TYPE_CHECKING, Any

from langchain_ffm_friendli.errors import InvalidParameterError

if TYPE_CHECKING:
    from langchain_ffm_friendli._planned import PlannedChatModel
    from langchain_ffm_friendli.ffm.chat_models import ChatFFM
    from langchain_ffm_friendli.friendli.chat_models import ChatFriendli
    from langchain_ffm_friendli.monsterapi.chat_models import ChatMonsterAPI

__all__ = ["CHAT_MODELS", "init_chat_model"]

CHAT_MODELS: dict[str, str] = {
    "ffm": "langchain_ffm_friendli.ffm.chat_models:ChatFFM",
    "friendli": "langchain_ffm_friendli.friendli.chat_models:ChatFriendli",
    "monsterapi": "langchain_ffm_friendli.monsterapi.chat_models:ChatMonsterAPI",
}
"""Provider name -> where its chat class is defined, as ``init_chat_model`` reads the
prefix (a path, not the class, so that importing this module imports none of the three)."""


def init_chat_model(
    model: str, *, model_provider: str | None = None, **kwargs: Any
) -> ChatFFM | ChatFriendli | ChatMonsterAPI:
    """A chat model from ``"provider:model"`` (``ffm``, ``friendli`` or ``monsterapi``).

    Mirrors LangChain's ``init_chat_model``: the provider is the prefix before
    the first ``:``, or ``model_provider=``; everything after the first ``:`` is
    the model id (so Friendli's ``ENDPOINT_ID:ADAPTER`` survives). Other kwargs
    go to the class unchanged (and a misspelled one is refused by it).

    Example::

        llm = init_chat_model("friendli:meta-llama-3.1-8b-instruct", temperature=0)
    """
    provider = model_provider
    if provider is None:
        prefix, sep, rest = model.partition(":")
        if not sep or prefix not in CHAT_MODELS:
            raise _unknown_provider(prefix if sep else None, model)
        provider, model = prefix, rest
    name = CHAT_MODELS.get(provider)
    if name is None:
        raise _unknown_provider(provider, model)
    module, _, attribute = name.partition(":")
    cls: type[PlannedChatModel] = getattr(import_module(module), attribute)
    return cls(model=model, **kwargs)  # type: ignore[return-value]


def _unknown_provider(provider: str | None, model: str) -> InvalidParameterError:
    names = ", ".join(CHAT_MODELS)
    if provider is None:
        return InvalidParameterError(
            "model_provider",
            f"cannot tell the provider of {model!r}; write 'provider:model' "
            f"or pass model_provider= (one of {names})",
            provider="langchain_ffm_friendli",
        )
    close = difflib.get_close_matches(provider, list(CHAT_MODELS), n=1)
    hint = f"Did you mean {close[0]!r}? " if close else ""
    return InvalidParameterError(
        "model_provider",
        f"{provider!r} is not a provider of this package. {hint}Use one of {names}; "
        "other providers are served by langchain.chat_models.init_chat_model",
        provider="langchain_ffm_friendli",
    )
