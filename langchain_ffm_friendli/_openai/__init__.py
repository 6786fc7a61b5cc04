"""The OpenAI dialect that FFM, Friendli and MonsterAPI share, one idea per module.

- :mod:`.messages`: LangChain messages as OpenAI-style dicts (content parts,
  media, replayed reasoning, tool-call histories).
- :mod:`.tools`: tools and ``tool_choice`` as OpenAI-style dicts, ``strict``
  placement, and tool calls (whole or in stream fragments) back to LangChain.
- :mod:`.chat`: the chat-completions body, its answer and its stream decoder.
- :mod:`.json_output`: asking a model for JSON through its system prompt.

Everything here is pure: dicts in, dicts out. Provider modules apply their
differences on top.
"""
