"""Token estimates without a tokenizer: CJK-aware, deterministic, dependency-free.

Why an estimate: none of our providers ships its tokenizer in a form we can use
offline with only our dependencies (no ``transformers``, no ``tiktoken``):

* FFM (TWCC/TWSC AFS) has no tokenize route at all; it reports ``prompt_tokens``
  and ``generated_tokens`` only after a call (protocols/ffm.md §1.5, §10.5).
* MonsterAPI's ``/v1/generate`` has no tokenize route either; its reply carries
  ``token_counts`` after the fact (protocols/monsterapi.md §2.1).
* Friendli does have one: ``POST {base}/tokenize`` with ``{"model", "prompt"}``
  answering ``{"tokens": [ids...]}`` on serverless (``/serverless/v1/tokenize``),
  dedicated (``/dedicated/v1/tokenize``) and container (``/v1/tokenize``)
  (protocols/friendli.md §1.1; SDK ``serverless.token.tokenize(model, prompt)``).
  ``ChatFriendli`` / ``FriendliLLM`` ``get_num_tokens`` use that route for exact
  counts (``friendli/_settings.py``); this module does no I/O.

The estimate, per piece of text:

================================  ==========================  ====================
piece                             default                     ``conservative=True``
================================  ==========================  ====================
CJK ideograph, kana, hangul,      1 each                      1.5 each
CJK/fullwidth punctuation
Latin word (ASCII letters,        ceil(len / 4)               same
Latin-1/Extended, Vietnamese)
other-script word (Cyrillic,      ceil(len / 2)               same
Greek, Arabic, Thai, ...)
run of digits                     ceil(len / 3)               1 per digit
other symbol or punctuation       1 each                      same
(``_`` included)
whitespace                        0                           0
================================  ==========================  ====================

Llama-3-family tokenizers (FFM's Llama3.x-FFM, most Friendli and MonsterAPI
models) spend roughly one token per Traditional Chinese character, about four
characters per token on English, and split numbers into groups of up to three
digits; the default weights follow that. ``conservative=True`` errs high, for hard
server limits such as FFM's per-batch embedding budget, where an under-estimate
is a rejected request.

Properties the tests hold: an empty (or whitespace-only) text is 0; a text of CJK
characters is its character count; the default estimate of ``a + b`` lies between
``estimate(a) + estimate(b) - 1`` and ``estimate(a) + estimate(b)`` (only the two
pieces meeting at the seam can merge), so it never shrinks when text is appended.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    MessageLikeRepresentation,
    ToolMessage,
    convert_to_messages,
)
from langchain_core.utils.function_calling import convert_to_openai_tool

__all__ = [
    "IMAGE_TOKENS",
    "MEDIA_TOKENS",
    "MESSAGE_OVERHEAD_TOKENS",
    "TOOL_CALL_OVERHEAD_TOKENS",
    "TOOL_SCHEMA_OVERHEAD_TOKENS",
    "estimate_message_tokens",
    "estimate_tokens",
    "truncate_to_tokens",
]

#: Tokens charged per message for the role and the chat template's markers. Llama 3's
#: template spends 4-5 per turn (``<|start_header_id|>role<|end_header_id|>\n\n`` ...
#: ``<|eot_id|>``); OpenAI's cookbook counts 3-4. 5 errs high.
MESSAGE_OVERHEAD_TOKENS: Final = 5
#: Tokens charged per tool call on top of its name and JSON arguments (the call's
#: id, ``type`` and the template's wrapping).
TOOL_CALL_OVERHEAD_TOKENS: Final = 3
#: Tokens charged per tool schema on top of its JSON text.
TOOL_SCHEMA_OVERHEAD_TOKENS: Final = 3
#: Fixed charge per image block, whatever its size or encoding (the base64 payload is
#: never counted as text). Vision encoders differ: OpenAI charges 765 for a
#: 1024x1024 high-detail image, Gemma 3 a fixed 256, Llama 3.2 Vision about 1,600
#: per tile. 768 is a middle value; it is an estimate, not a provider's price.
IMAGE_TOKENS: Final = 768
#: Fixed charge per audio, video or file block (no provider documents a figure).
MEDIA_TOKENS: Final = 768

# Ideographs (incl. extensions and compatibility), kana, hangul, bopomofo, CJK
# punctuation (U+3001-303F, not the ideographic space U+3000) and fullwidth forms.
_CJK: Final = (
    "\u2e80-\u2fdf\u3001-\u303f\u3040-\u30ff\u3100-\u31ff\u3400-\u4dbf"
    "\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef"
    "\U00020000-\U0002fa1f"
)
_LATIN: Final = "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\u1e00-\u1eff"


@functools.cache
def _pieces() -> re.Pattern[str]:
    """The tokenizing pattern, compiled on first use (it costs ~10 ms at import)."""
    return re.compile(
        rf"(?P<cjk>[{_CJK}])"
        rf"|(?P<latin>[{_LATIN}]+)"
        rf"|(?P<word>(?:(?![{_CJK}{_LATIN}])[^\W\d_])+)"
        rf"|(?P<digits>(?:(?![{_CJK}])\d)+)"
        r"|(?P<other>[^\s])"
    )


def estimate_tokens(text: str, *, conservative: bool = False) -> int:
    """Estimate how many tokens ``text`` costs (see the module docstring).

    Args:
        text: Any text.
        conservative: Err high (1.5 per CJK character, 1 per digit), for hard limits.

    Returns:
        The estimate; 0 for an empty or whitespace-only text.
    """
    total = 0.0
    cjk = 1.5 if conservative else 1.0
    for match in _pieces().finditer(text):
        kind = match.lastgroup
        length = match.end() - match.start()
        if kind == "cjk":
            total += cjk
        elif kind == "latin":
            total += -(-length // 4)
        elif kind == "word":
            total += -(-length // 2)
        elif kind == "digits":
            total += length if conservative else -(-length // 3)
        else:
            total += 1
    return math.ceil(total)


def truncate_to_tokens(text: str, limit: int, *, conservative: bool = False) -> str:
    """The longest prefix of ``text`` whose estimate fits ``limit`` tokens.

    Args:
        text: Any text.
        limit: The token budget (0 or less gives ``""``).
        conservative: Passed to :func:`estimate_tokens`.

    Returns:
        ``text`` itself when it fits, else its longest fitting prefix.
    """
    if estimate_tokens(text, conservative=conservative) <= limit:
        return text
    low, high = 0, len(text)
    while low < high:  # the estimate of a prefix never decreases as it grows
        mid = (low + high + 1) // 2
        if estimate_tokens(text[:mid], conservative=conservative) <= limit:
            low = mid
        else:
            high = mid - 1
    return text[:low]


def _json(value: Any) -> str:
    """Compact JSON as the wire carries it (Unicode kept, as FFM's wrapper sends)."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str, separators=(",", ":"))


_IMAGE_BLOCKS: Final = frozenset({"image", "image_url", "input_image"})
_MEDIA_BLOCKS: Final = frozenset(
    {"audio", "audio_url", "input_audio", "video", "video_url", "file", "input_file"}
)
# Carried by ``AIMessage.tool_calls``, counted there once.
_TOOL_CALL_BLOCKS: Final = frozenset({"tool_call", "tool_call_chunk", "invalid_tool_call"})


def _block_tokens(block: Any) -> int:
    """Estimate one content block (a str, or a LangChain / OpenAI-style dict)."""
    if isinstance(block, str):
        return estimate_tokens(block)
    if not isinstance(block, Mapping):
        return estimate_tokens(str(block))
    kind = block.get("type")
    if kind in _IMAGE_BLOCKS:
        return IMAGE_TOKENS
    if kind in _MEDIA_BLOCKS:
        return MEDIA_TOKENS
    if kind in _TOOL_CALL_BLOCKS:
        return 0
    if kind == "text":
        return estimate_tokens(str(block.get("text") or ""))
    if kind == "reasoning":  # v1 standard block; replayed where the provider accepts it
        return estimate_tokens(str(block.get("reasoning") or ""))
    if kind in {"thinking", "redacted_thinking"}:
        return estimate_tokens(str(block.get("thinking") or block.get("data") or ""))
    if kind in {"server_tool_call", "server_tool_call_chunk"}:
        args = block.get("args")
        return TOOL_CALL_OVERHEAD_TOKENS + estimate_tokens(
            f"{block.get('name') or ''} {_json(args) if args is not None else ''}"
        )
    if kind == "server_tool_result":
        output = block.get("output")
        return estimate_tokens(_json(output) if output is not None else "")
    # Unknown block: its JSON text, which errs high.
    return estimate_tokens(_json(dict(block)))


def _content_tokens(content: str | list[Any]) -> int:
    if isinstance(content, str):
        return estimate_tokens(content)
    return sum(_block_tokens(block) for block in content)


def _message_tokens(message: BaseMessage) -> int:
    total = MESSAGE_OVERHEAD_TOKENS + _content_tokens(message.content)
    if message.name:
        total += estimate_tokens(message.name)
    if isinstance(message, AIMessage):
        for call in message.tool_calls:
            total += TOOL_CALL_OVERHEAD_TOKENS + estimate_tokens(
                f"{call['name']} {_json(call['args'])}"
            )
        for bad in message.invalid_tool_calls:
            total += TOOL_CALL_OVERHEAD_TOKENS + estimate_tokens(
                f"{bad.get('name') or ''} {bad.get('args') or ''}"
            )
    elif isinstance(message, ToolMessage):
        total += estimate_tokens(message.tool_call_id)
    return total


def _tool_schema_tokens(tool: Any) -> int:
    schema = tool if isinstance(tool, Mapping) else convert_to_openai_tool(tool)
    return TOOL_SCHEMA_OVERHEAD_TOKENS + estimate_tokens(_json(dict(schema)))


def estimate_message_tokens(
    messages: Iterable[MessageLikeRepresentation] | Sequence[BaseMessage],
    *,
    tools: Sequence[Any] | None = None,
) -> int:
    """Estimate the prompt tokens of a conversation (and its tool schemas).

    Per message: :data:`MESSAGE_OVERHEAD_TOKENS`, the name, the text of ``str``
    content and of ``text`` / ``reasoning`` blocks, :data:`IMAGE_TOKENS` per image
    block and :data:`MEDIA_TOKENS` per audio/video/file block, each tool call's name
    and JSON arguments (plus :data:`TOOL_CALL_OVERHEAD_TOKENS`), and a tool
    message's ``tool_call_id``. Unknown blocks count as their JSON text.

    Args:
        messages: Messages, or anything ``convert_to_messages`` accepts.
        tools: Tool schemas sent with the prompt (dicts, pydantic models,
            functions or ``BaseTool``), converted with ``convert_to_openai_tool``.

    Returns:
        The estimate; 0 for no messages and no tools.
    """
    total = sum(_message_tokens(m) for m in convert_to_messages(messages))
    if tools:
        total += sum(_tool_schema_tokens(tool) for tool in tools)
    return total
