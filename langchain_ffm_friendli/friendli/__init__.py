"""FriendliAI integration: chat (with built-in tools) and text completions.

Importing it registers the ``"friendli"`` block translator with LangChain, so
``AIMessage.content_blocks`` (and ``output_version="v1"``) shows built-in tool
activity as ``server_tool_call`` / ``server_tool_result`` blocks. Registering
again (a reload) just replaces the entry with the same functions. Both classes
import this file first, so using either registers the translator; a bare
``import langchain_ffm_friendli`` does not (it loads nothing, see its docstring).

The classes load lazily (PEP 562), like the top-level package: importing one
of them does not build the other. The translator needs ``_protocol``, which
both classes import anyway.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from langchain_core.messages.block_translators import register_translator

from langchain_ffm_friendli.friendli import _protocol

if TYPE_CHECKING:
    from langchain_ffm_friendli.friendli.chat_models import ChatFriendli
    from langchain_ffm_friendli.friendli.llms import FriendliLLM

register_translator(
    _protocol.PROVIDER, _protocol.translate_content, _protocol.translate_content_chunk
)

__all__ = ["ChatFriendli", "FriendliLLM"]

_MODULE_OF: dict[str, str] = {
    "ChatFriendli": "langchain_ffm_friendli.friendli.chat_models",
    "FriendliLLM": "langchain_ffm_friendli.friendli.llms",
}
"""Public name -> the module that defines it."""


def __getattr__(name: str) -> Any:
    """Import a public class on first access and cache it in the module globals.

    Raises:
        AttributeError: ``name`` is not a public name of this subpackage.
    """
    module = _MODULE_OF.get(name)
    if module is None:
        msg = f"module {__name__!r} has no attribute {name!r}"
        raise AttributeError(msg)
    value: Any = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The module's own globals plus the lazily loaded classes."""
    return sorted({*globals(), *__all__})
