"""MonsterAPI integration: chat and text generation over ``/v1/generate``.

The classes load lazily (PEP 562), like the top-level package: importing one
of them does not build the other.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from langchain_ffm_friendli._lazy import lazy_names

if TYPE_CHECKING:
    from langchain_ffm_friendli.monsterapi.chat_models import ChatMonsterAPI
    from langchain_ffm_friendli.monsterapi.llms import MonsterAPILLM

__all__ = ["ChatMonsterAPI", "MonsterAPILLM"]

_TARGETS = {
    "ChatMonsterAPI": "langchain_ffm_friendli.monsterapi.chat_models:ChatMonsterAPI",
    "MonsterAPILLM": "langchain_ffm_friendli.monsterapi.llms:MonsterAPILLM",
}
"""Public name -> where it is defined."""

__getattr__, __dir__ = lazy_names(__name__, globals(), _TARGETS)
