"""Friendli's built-in tools (tool-assisted chat): which tools run for a message.

The server runs the built-in tools itself: :func:`plan_runs` decides from the last user
message which tools run (each through its simulator in :mod:`.simulators`) and returns
the :class:`ToolRun` records the ``tool_status`` events report.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .._model import call_id, conversation_digest, last_user_text
from .._openai_compatible.requests import ChatRequest
from .simulators import (
    Simulator,
    ToolOutcome,
    calculate,
    compute_statistics,
    file_text,
    python_interpreter,
    read_calendar,
    search,
    web_url,
)

__all__ = ["BUILTIN_TOOLS", "SIMULATORS", "ToolRun", "plan_runs"]

#: Each built-in tool type and the simulator that runs it, in the documented order.
SIMULATORS: dict[str, Simulator] = {
    "math:calculator": calculate,
    "math:statistics": compute_statistics,
    "math:calendar": read_calendar,
    "web:search": search("web:search"),
    "web:url": web_url,
    "code:python-interpreter": python_interpreter,
    "file:text": file_text,
    "linkup:search": search("linkup:search"),
}
#: The ``tools[].type`` values the tool-assisted endpoint runs itself.
BUILTIN_TOOLS = tuple(SIMULATORS)


@dataclass(frozen=True)
class ToolRun:
    """One execution of a built-in tool, as its ``tool_status`` events report it.

    Attributes:
        call_id: The ``tool_call_id``.
        name: The built-in tool.
        outcome: What its simulator produced.
    """

    call_id: str
    name: str
    outcome: ToolOutcome


def _outcomes(request: ChatRequest, text: str) -> list[tuple[str, ToolOutcome]]:
    """The built-in tools that apply to ``text`` (each type once), and what they produce.

    ``required`` with no applicable built-in tool and no function tool forces the first
    built-in tool on the whole message.
    """
    outcomes: list[tuple[str, ToolOutcome]] = []
    seen: set[str] = set()
    for tool in request.server_tools:
        name = str(tool["type"])
        if name in seen:
            continue
        seen.add(name)
        outcome = SIMULATORS[name](text, tool, forced=False)
        if outcome is not None:
            outcomes.append((name, outcome))
    if not outcomes and request.tool_choice == "required" and not request.tools:
        first = request.server_tools[0]
        forced = SIMULATORS[str(first["type"])](text, first, forced=True)
        if forced is not None:
            outcomes.append((str(first["type"]), forced))
    return outcomes


def plan_runs(request: ChatRequest, *, resume: bool) -> list[ToolRun]:
    """Decide which built-in tools the model runs, and run them.

    Only a conversation whose last message is the user's runs tools; ``tool_choice``
    ``none`` or a named function runs none; ``required`` with no applicable built-in
    tool and no function tool runs the first built-in tool on the whole message.
    Without ``resume_generation`` the runs stop at the first failure.

    Args:
        request: The validated tool-assisted request.
        resume: ``resume_generation``.

    Returns:
        The runs, in the order of ``tools``.
    """
    messages = request.messages
    choice = request.tool_choice
    if (
        not request.server_tools
        or choice == "none"
        or isinstance(choice, Mapping)
        or messages[-1].get("role") != "user"
    ):
        return []
    salt = conversation_digest(messages)
    runs: list[ToolRun] = []
    for index, (name, outcome) in enumerate(_outcomes(request, last_user_text(messages))):
        runs.append(ToolRun(call_id(salt, f"builtin:{index}"), name, outcome))
        if outcome.error is not None and not resume:
            break
    return runs
