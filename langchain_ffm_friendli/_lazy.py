"""Public names loaded on first access (PEP 562), for the package and its subpackages.

``langchain_core.language_models`` does the same: importing a package costs next to
nothing, and using one class builds that class only. Each name is cached in the
module's globals on first access, so later accesses are plain attribute lookups.
This module imports nothing but ``importlib`` (not even ``typing``): it is part of
what ``import langchain_ffm_friendli`` itself costs.
"""

from __future__ import annotations

from importlib import import_module

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any


def lazy_names(
    module: str,
    namespace: dict[str, Any],
    targets: Mapping[str, str],
    loaders: Mapping[str, Callable[[], Any]] | None = None,
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of ``module``.

    Args:
        module: the module's ``__name__`` (named in the AttributeError).
        namespace: the module's ``globals()``, where loaded names are cached.
        targets: public name -> ``"package.module:Name"`` for an attribute of a
            module, or ``"package.module"`` for the module itself.
        loaders: public name -> a function computing its value (``__version__``).
    """
    extra = loaders or {}

    def __getattr__(name: str) -> Any:  # noqa: N807 - the module hook's own name
        target = targets.get(name)
        if target is not None:
            path, _, attr = target.partition(":")
            value = getattr(import_module(path), attr) if attr else import_module(path)
        elif name in extra:
            value = extra[name]()
        else:
            msg = f"module {module!r} has no attribute {name!r}"
            raise AttributeError(msg)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:  # noqa: N807
        return sorted({*namespace, *targets, *extra})

    return __getattr__, __dir__


def package_version() -> str:
    """This distribution's installed version (``0.0.0`` when run from a source tree).

    importlib.metadata scans the installed distributions (about 1 ms): callers
    ask only when they need it and keep the answer.
    """
    from importlib import metadata

    try:
        return metadata.version("langchain-ffm-friendli")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0.0.0"
