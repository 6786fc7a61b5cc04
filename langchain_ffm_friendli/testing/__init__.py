"""A local emulator of the providers' native APIs, for testing LangChain apps offline.

The emulator is a real HTTP/1.1 server on 127.0.0.1 that speaks each provider's wire
protocol, quirks included (FFM, Friendli and MonsterAPI), so tests exercise the whole
client stack over real sockets: a deterministic scripted model, queued replies and
faults, and a log of every request received.

Example:
    .. code-block:: python

        from langchain_ffm_friendli.testing import Emulator, Fault, Reply, ToolCall

        with Emulator() as emu:
            emu.queue(Reply(tool_calls=[ToolCall("get_weather", {"city": "台北"})]))
            emu.queue(Fault.status(429, retry_after="1"), Reply(text="ok"))
            ...  # call emu.ffm_base_url with X-API-KEY: emu.api_key
            assert emu.requests[0].route == "ffm.conversation"

An opt-in pytest plugin (``pytest_plugins = ["langchain_ffm_friendli.testing.pytest_plugin"]``)
provides the ``lcff_emulator`` and ``lcff_emulator_session`` fixtures, and
``python -m langchain_ffm_friendli.testing --port 8787`` serves the emulator to apps in
any language. Every emulator serves a control API under ``/_emulator/`` on its own port;
:class:`EmulatorClient` scripts one that runs in another process.
"""

from ._client import EmulatorClient
from ._emulator import Emulator
from ._exchange import RecordedRequest
from ._faults import Fault
from ._model import Reply, ToolCall

__all__ = ["Emulator", "EmulatorClient", "Fault", "RecordedRequest", "Reply", "ToolCall"]
