"""FriendliAI integration: chat (with built-in tools) and text completions."""

from langchain_ffm_friendli.friendli.chat_models import ChatFriendli

__all__ = ["ChatFriendli"]
