"""FriendliAI integration: chat (with built-in tools) and text completions.

Importing it registers the ``"friendli"`` block translator with LangChain, so
``AIMessage.content_blocks`` (and ``output_version="v1"``) shows built-in tool
activity as ``server_tool_call`` / ``server_tool_result`` blocks. Registering
again (a reload) just replaces the entry with the same functions.
"""

from langchain_core.messages.block_translators import register_translator

from langchain_ffm_friendli.friendli import _protocol
from langchain_ffm_friendli.friendli.chat_models import ChatFriendli
from langchain_ffm_friendli.friendli.llms import FriendliLLM

register_translator(
    _protocol.PROVIDER, _protocol.translate_content, _protocol.translate_content_chunk
)

__all__ = ["ChatFriendli", "FriendliLLM"]
