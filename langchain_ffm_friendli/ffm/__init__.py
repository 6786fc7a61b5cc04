"""FFM (Formosa Foundation Model on TWCC/TWSC AFS) integration.

The classes load lazily (PEP 562), like the top-level package: importing one
of them (``langchain_ffm_friendli.ffm.embeddings`` runs this file first) does
not build the other two.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from langchain_ffm_friendli._lazy import lazy_names

if TYPE_CHECKING:
    from langchain_ffm_friendli.ffm.chat_models import ChatFFM
    from langchain_ffm_friendli.ffm.embeddings import FFMEmbeddings
    from langchain_ffm_friendli.ffm.llms import FFMLLM

__all__ = ["FFMLLM", "ChatFFM", "FFMEmbeddings"]

_TARGETS = {
    "FFMLLM": "langchain_ffm_friendli.ffm.llms:FFMLLM",
    "ChatFFM": "langchain_ffm_friendli.ffm.chat_models:ChatFFM",
    "FFMEmbeddings": "langchain_ffm_friendli.ffm.embeddings:FFMEmbeddings",
}
"""Public name -> where it is defined."""

__getattr__, __dir__ = lazy_names(__name__, globals(), _TARGETS)
