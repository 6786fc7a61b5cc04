"""FFM (Formosa Foundation Model on TWCC/TWSC AFS) integration.

The classes load lazily (PEP 562), like the top-level package: importing one
of them (``langchain_ffm_friendli.ffm.embeddings`` runs this file first) does
not build the other two.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from langchain_ffm_friendli.ffm.chat_models import ChatFFM
    from langchain_ffm_friendli.ffm.embeddings import FFMEmbeddings
    from langchain_ffm_friendli.ffm.llms import FFMLLM

__all__ = ["FFMLLM", "ChatFFM", "FFMEmbeddings"]

_MODULE_OF: dict[str, str] = {
    "FFMLLM": "langchain_ffm_friendli.ffm.llms",
    "ChatFFM": "langchain_ffm_friendli.ffm.chat_models",
    "FFMEmbeddings": "langchain_ffm_friendli.ffm.embeddings",
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
