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

from typing import TYPE_CHECKING

from langchain_core.messages.block_translators import register_translator

from langchain_ffm_friendli._lazy import lazy_names
from langchain_ffm_friendli.friendli import _protocol

if TYPE_CHECKING:
    from langchain_ffm_friendli.friendli.chat_models import ChatFriendli
    from langchain_ffm_friendli.friendli.llms import FriendliLLM

register_translator(
    _protocol.PROVIDER, _protocol.translate_content, _protocol.translate_content_chunk
)

__all__ = ["ChatFriendli", "FriendliLLM"]

_TARGETS = {
    "ChatFriendli": "langchain_ffm_friendli.friendli.chat_models:ChatFriendli",
    "FriendliLLM": "langchain_ffm_friendli.friendli.llms:FriendliLLM",
}
"""Public name -> where it is defined."""

__getattr__, __dir__ = lazy_names(__name__, globals(), _TARGETS)
