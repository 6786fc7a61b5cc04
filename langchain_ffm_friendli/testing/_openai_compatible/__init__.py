"""The OpenAI-compatible chat completions API that Friendli and MonsterAPI both serve.

Laid out like a provider package (``requests``, ``models``, ``responses``, ``routes``) but
owning no URL: the provider packages mount :func:`~.routes.chat_handler` under their own
prefixes and wrap their quirks around it. The behaviour follows the wire format Friendli
documents (protocols/friendli.md §2).
"""
