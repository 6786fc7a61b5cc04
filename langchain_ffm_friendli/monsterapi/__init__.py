"""MonsterAPI integration: chat and text generation over ``/v1/generate``.

The classes load lazily (PEP 562), like the top-level package: importing one
of them does not build the other.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from langchain_ffm_friendli.monsterapi.chat_models import ChatMonsterAPI
    from langchain_ffm_friendli.monsterapi.llms import MonsterAPILLM

__all__ = ["ChatMonsterAPI", "MonsterAPILLM"]

_MODULE_OF: dict[str, str] = {
    "ChatMonsterAPI": "langchain_ffm_friendli.monsterapi.chat_models",
    "MonsterAPILLM": "langchain_ffm_friendli.monsterapi.llms",
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
