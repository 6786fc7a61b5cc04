"""LangChain integrations for FFM, FriendliAI and MonsterAPI.

Import the classes from here; the emulator lives in
``langchain_ffm_friendli.testing`` and is never imported by this module.
"""

from importlib import metadata

from langchain_ffm_friendli._factory import init_chat_model
from langchain_ffm_friendli.ffm.chat_models import ChatFFM
from langchain_ffm_friendli.ffm.embeddings import FFMEmbeddings
from langchain_ffm_friendli.ffm.llms import FFMLLM
from langchain_ffm_friendli.friendli.chat_models import ChatFriendli
from langchain_ffm_friendli.friendli.llms import FriendliLLM
from langchain_ffm_friendli.monsterapi.chat_models import ChatMonsterAPI
from langchain_ffm_friendli.monsterapi.llms import MonsterAPILLM

try:
    __version__ = metadata.version("langchain-ffm-friendli")
except metadata.PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

__all__ = [
    "FFMLLM",
    "ChatFFM",
    "ChatFriendli",
    "ChatMonsterAPI",
    "FFMEmbeddings",
    "FriendliLLM",
    "MonsterAPILLM",
    "__version__",
    "init_chat_model",
]
