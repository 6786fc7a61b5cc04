"""FriendliAI integration: chat (with built-in tools) and text completions."""

from langchain_ffm_friendli.friendli.chat_models import ChatFriendli
from langchain_ffm_friendli.friendli.llms import FriendliLLM

__all__ = ["ChatFriendli", "FriendliLLM"]
