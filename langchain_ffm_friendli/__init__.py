"""LangChain integrations for FFM, FriendliAI and MonsterAPI.

Import the classes from here; the emulator lives in
``langchain_ffm_friendli.testing`` and is never imported by this module.

The names are loaded lazily (PEP 562), as ``langchain_core.language_models``
does: ``import langchain_ffm_friendli`` costs next to nothing, and
``from langchain_ffm_friendli import ChatFriendli`` imports the Friendli chat
model's module only, not the other six classes. Each name is cached in this
module's globals on first access, so later accesses are plain attribute
lookups. The imports under ``TYPE_CHECKING`` let type checkers and IDEs see
the real types.
"""

from __future__ import annotations

from langchain_ffm_friendli._lazy import lazy_names, package_version

# Not ``from typing import TYPE_CHECKING``: importing ``typing`` (and the ``re`` it pulls
# in) would be most of this module's own import cost. Type checkers treat any
# ``TYPE_CHECKING`` name as true, so they still see everything below.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from langchain_ffm_friendli import errors as errors
    from langchain_ffm_friendli import ffm as ffm
    from langchain_ffm_friendli import friendli as friendli
    from langchain_ffm_friendli import monsterapi as monsterapi
    from langchain_ffm_friendli._factory import init_chat_model
    from langchain_ffm_friendli.ffm.chat_models import ChatFFM
    from langchain_ffm_friendli.ffm.embeddings import FFMEmbeddings
    from langchain_ffm_friendli.ffm.llms import FFMLLM
    from langchain_ffm_friendli.friendli.chat_models import ChatFriendli
    from langchain_ffm_friendli.friendli.llms import FriendliLLM
    from langchain_ffm_friendli.monsterapi.chat_models import ChatMonsterAPI
    from langchain_ffm_friendli.monsterapi.llms import MonsterAPILLM

    __version__: str

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

_TARGETS = {
    "FFMLLM": "langchain_ffm_friendli.ffm.llms:FFMLLM",
    "ChatFFM": "langchain_ffm_friendli.ffm.chat_models:ChatFFM",
    "FFMEmbeddings": "langchain_ffm_friendli.ffm.embeddings:FFMEmbeddings",
    "ChatFriendli": "langchain_ffm_friendli.friendli.chat_models:ChatFriendli",
    "FriendliLLM": "langchain_ffm_friendli.friendli.llms:FriendliLLM",
    "ChatMonsterAPI": "langchain_ffm_friendli.monsterapi.chat_models:ChatMonsterAPI",
    "MonsterAPILLM": "langchain_ffm_friendli.monsterapi.llms:MonsterAPILLM",
    "init_chat_model": "langchain_ffm_friendli._factory:init_chat_model",
    # Subpackages that the eager ``import langchain_ffm_friendli`` used to leave reachable as
    # attributes (``langchain_ffm_friendli.errors.ProviderError`` with no import of ``errors``);
    # they still are, imported on first access. ``testing`` never was and stays out.
    "errors": "langchain_ffm_friendli.errors",
    "ffm": "langchain_ffm_friendli.ffm",
    "friendli": "langchain_ffm_friendli.friendli",
    "monsterapi": "langchain_ffm_friendli.monsterapi",
}
"""Public name -> where it is defined."""


# importlib.metadata scans the installed distributions (~1 ms): only when asked.
__getattr__, __dir__ = lazy_names(__name__, globals(), _TARGETS, {"__version__": package_version})
