"""``import langchain_ffm_friendli`` is lazy (PEP 562), and every public name still works.

What a user notices: the bare import is cheap because it loads none of the classes
(nor langchain-core's model stack, pydantic or httpx); ``from ... import ChatFriendli``
builds only that class; every name, ``dir()``, ``*``-imports, ``__version__`` and the
old attribute paths still work, and a typo is an ordinary ``AttributeError``.

Import state is per interpreter, so the checks on what gets loaded run in fresh
interpreters (``sys.executable``), each printing one JSON report.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
import textwrap
from importlib import metadata
from typing import Any

import pytest

import langchain_ffm_friendli as pkg
from langchain_ffm_friendli import _lazy, ffm, friendli, monsterapi

DEFINED_IN = {
    "FFMLLM": "langchain_ffm_friendli.ffm.llms",
    "ChatFFM": "langchain_ffm_friendli.ffm.chat_models",
    "FFMEmbeddings": "langchain_ffm_friendli.ffm.embeddings",
    "ChatFriendli": "langchain_ffm_friendli.friendli.chat_models",
    "FriendliLLM": "langchain_ffm_friendli.friendli.llms",
    "ChatMonsterAPI": "langchain_ffm_friendli.monsterapi.chat_models",
    "MonsterAPILLM": "langchain_ffm_friendli.monsterapi.llms",
    "init_chat_model": "langchain_ffm_friendli._factory",
}
"""Written out here (not read from the package) so a wrong mapping there fails a test."""

NOT_ON_BARE_IMPORT = (
    "langchain_core.language_models",
    "langchain_core.language_models.chat_models",
    "langchain_core.language_models.llms",
    "langchain_core.messages",
    "pydantic",
    "httpx",
    "langchain_ffm_friendli._planned",
    "langchain_ffm_friendli._base",
    "langchain_ffm_friendli._transport",
    "langchain_ffm_friendli._factory",
    "langchain_ffm_friendli.errors",
    "langchain_ffm_friendli.ffm",
    "langchain_ffm_friendli.friendli",
    "langchain_ffm_friendli.monsterapi",
    "langchain_ffm_friendli.testing",
)


def _fresh(code: str) -> Any:
    """Run ``code`` in a new interpreter and return the JSON it prints last."""
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def bare() -> dict[str, Any]:
    """What a fresh ``import langchain_ffm_friendli`` loads, before and after ``dir()``."""
    return _fresh(
        """
        import json, sys
        before = set(sys.modules)
        import langchain_ffm_friendli as pkg
        loaded = sorted(set(sys.modules) - before)
        listed = dir(pkg)
        after_dir = sorted(set(sys.modules) - before)
        error = pkg.errors.ProviderError.__module__  # an attribute path the eager import allowed
        print(json.dumps({"loaded": loaded, "dir": listed, "after_dir": after_dir,
                          "errors_module": error}))
        """
    )


def test_bare_import_loads_no_class_nor_the_model_stack(bare: dict[str, Any]) -> None:
    leaked = [m for m in NOT_ON_BARE_IMPORT if m in bare["loaded"]]
    assert leaked == []
    ours = [m for m in bare["loaded"] if m.startswith("langchain_ffm_friendli")]
    assert ours == ["langchain_ffm_friendli", "langchain_ffm_friendli._lazy"]


def test_dir_lists_every_public_name_without_importing_it(bare: dict[str, Any]) -> None:
    assert set(pkg.__all__) <= set(bare["dir"])
    assert {"errors", "ffm", "friendli", "monsterapi"} <= set(bare["dir"])
    assert bare["after_dir"] == bare["loaded"]


def test_the_errors_subpackage_is_still_an_attribute_after_a_bare_import(
    bare: dict[str, Any],
) -> None:
    assert bare["errors_module"] == "langchain_ffm_friendli.errors"


def test_a_first_class_builds_only_itself_and_registers_friendlis_translator() -> None:
    report = _fresh(
        """
        import json, sys
        from langchain_ffm_friendli import FriendliLLM
        from langchain_core.messages.block_translators import get_translator
        loaded = sorted(m for m in sys.modules if m.startswith("langchain_ffm_friendli"))
        print(json.dumps({"loaded": loaded, "translator": get_translator("friendli") is not None,
                          "module": FriendliLLM.__module__}))
        """
    )
    assert report["module"] == "langchain_ffm_friendli.friendli.llms"
    for other in (
        "langchain_ffm_friendli.friendli.chat_models",
        "langchain_ffm_friendli.ffm",
        "langchain_ffm_friendli.monsterapi",
        "langchain_ffm_friendli._factory",
        "langchain_ffm_friendli.testing",
    ):
        assert other not in report["loaded"], other
    assert report["translator"]


def test_init_chat_model_imports_only_the_provider_it_is_asked_for() -> None:
    report = _fresh(
        """
        import json, sys
        from langchain_ffm_friendli import init_chat_model
        first = sorted(m for m in sys.modules if m.endswith(".chat_models"))
        llm = init_chat_model("monsterapi:meta-llama/Meta-Llama-3.1-8B-Instruct", api_key="k")
        then = sorted(m for m in sys.modules if m.endswith(".chat_models"))
        print(json.dumps({"first": first, "then": then, "type": type(llm).__name__}))
        """
    )
    assert not [m for m in report["first"] if m.startswith("langchain_ffm_friendli")]
    assert report["type"] == "ChatMonsterAPI"
    ours = [m for m in report["then"] if m.startswith("langchain_ffm_friendli")]
    assert ours == ["langchain_ffm_friendli.monsterapi.chat_models"]


@pytest.mark.parametrize("lazy_first", [True, False], ids=["lazy-then-eager", "eager-then-lazy"])
def test_the_lazy_and_the_eager_path_give_the_same_objects(*, lazy_first: bool) -> None:
    report = _fresh(
        f"""
        import importlib, json
        DEFINED_IN = {DEFINED_IN!r}
        SUBPACKAGE = {{"ffm": ["FFMLLM", "ChatFFM", "FFMEmbeddings"],
                      "friendli": ["ChatFriendli", "FriendliLLM"],
                      "monsterapi": ["ChatMonsterAPI", "MonsterAPILLM"]}}

        def lazy():
            import langchain_ffm_friendli as pkg
            return {{name: id(getattr(pkg, name)) for name in DEFINED_IN}}

        def eager():
            ids = {{name: id(getattr(importlib.import_module(module), name))
                    for name, module in DEFINED_IN.items()}}
            for sub, names in SUBPACKAGE.items():
                module = importlib.import_module("langchain_ffm_friendli." + sub)
                for name in names:
                    assert id(getattr(module, name)) == ids[name], (sub, name)
            return ids

        if {lazy_first!r}:
            a, b = lazy(), eager()
        else:
            b, a = eager(), lazy()
        print(json.dumps({{"same": a == b, "names": sorted(a)}}))
        """
    )
    assert report["names"] == sorted(DEFINED_IN)
    assert report["same"]


@pytest.mark.parametrize("name", sorted(DEFINED_IN))
def test_each_public_name_is_the_object_its_module_defines(name: str) -> None:
    value = getattr(pkg, name)
    assert value is getattr(importlib.import_module(DEFINED_IN[name]), name)
    assert value.__module__ == DEFINED_IN[name]


def test_all_lists_exactly_the_lazy_names_and_the_version() -> None:
    assert sorted(pkg.__all__) == sorted([*DEFINED_IN, "__version__"])


def test_star_import_binds_every_name_in_all() -> None:
    namespace: dict[str, Any] = {}
    exec("from langchain_ffm_friendli import *", namespace)
    namespace.pop("__builtins__")
    assert sorted(namespace) == sorted(pkg.__all__)
    assert namespace["ChatFFM"] is pkg.ChatFFM


def test_version_is_the_installed_distributions() -> None:
    assert pkg.__version__ == metadata.version("langchain-ffm-friendli")


def test_a_name_is_cached_after_first_access(monkeypatch: pytest.MonkeyPatch) -> None:
    first = pkg.ChatFriendli
    assert vars(pkg)["ChatFriendli"] is first

    def no_more_imports(name: str) -> None:
        raise AssertionError(f"imported {name} again")

    monkeypatch.setattr(_lazy, "import_module", no_more_imports)
    assert pkg.ChatFriendli is first


@pytest.mark.parametrize("module", [pkg, ffm, friendli, monsterapi], ids=lambda m: m.__name__)
def test_an_unknown_name_is_an_ordinary_attribute_error(module: Any) -> None:
    with pytest.raises(AttributeError) as info:
        _ = module.ChatOpenAI
    assert str(info.value) == f"module {module.__name__!r} has no attribute 'ChatOpenAI'"
    assert not hasattr(module, "chatffm")
    with pytest.raises(ImportError, match="cannot import name 'ChatOpenAI'"):
        exec(f"from {module.__name__} import ChatOpenAI", {})


def test_the_emulator_is_not_an_attribute_of_the_package() -> None:
    """``testing`` was never reachable without importing it, and must not be loaded lazily."""
    report = _fresh(
        """
        import json, sys
        import langchain_ffm_friendli as pkg
        emulator = "langchain_ffm_friendli.testing"
        print(json.dumps([hasattr(pkg, "testing"), emulator in sys.modules]))
        """
    )
    assert report == [False, False]
