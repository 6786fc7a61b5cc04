"""MonsterAPI integration: chat and text generation over ``/v1/generate``."""

from langchain_ffm_friendli.monsterapi.chat_models import ChatMonsterAPI
from langchain_ffm_friendli.monsterapi.llms import MonsterAPILLM

__all__ = ["ChatMonsterAPI", "MonsterAPILLM"]
