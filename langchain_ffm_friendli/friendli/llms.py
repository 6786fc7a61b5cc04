"""FriendliLLM: LangChain text-completion model for Friendli's ``/completions``."""

from __future__ import annotations

from typing import Any, Literal

from langchain_ffm_friendli._shell import Call, LLMShell, Plan, TextResult
from langchain_ffm_friendli._wire import SSEFraming
from langchain_ffm_friendli.friendli import _protocol as proto
from langchain_ffm_friendli.friendli._settings import FriendliClientSettings

__all__ = ["FriendliLLM"]


class FriendliLLM(FriendliClientSettings, LLMShell):
    """Friendli text completions with every documented parameter.

    ``POST {base_url}/completions`` on serverless, dedicated or container
    endpoints (same credentials, team header and endpoint rules as
    :class:`~langchain_ffm_friendli.ChatFriendli`). The prompt comes from
    LangChain; pass ``tokens=[...]`` per call to send token ids instead.

    Setup:
        Install the package (``pip install .`` from a checkout; ``pip install
        langchain-ffm-friendli`` once released) and ``export FRIENDLI_TOKEN=flp_...``.

    Key init args (Friendli's names; also per-call kwargs; unset ones not sent):
        bad_word_tokens, bad_words, beam_search_type, early_stopping,
        embedding_to_replace, encoder_no_repeat_ngram, encoder_repetition_penalty,
        eos_token, frequency_penalty, include_output_logits, include_output_logprobs,
        length_penalty, max_tokens, max_total_tokens, min_tokens, min_total_tokens,
        n, no_repeat_ngram, num_beams, presence_penalty, repetition_penalty,
        response_format, seed, stop, stop_tokens, temperature, timeout_microseconds,
        token_index_to_replace, top_k, top_p, min_p, logprobs (an integer here),
        stream_usage.

    The documented constraints are checked before any request: max_tokens vs
    max_total_tokens and min_tokens vs min_total_tokens; num_beams in 1..31;
    beam search not with streaming, n > 1 or stop (use stop_tokens);
    DETERMINISTIC beam search without top_k/top_p; beam_search_type,
    early_stopping and length_penalty only with num_beams.

    Unknown parameters:
        The list above is checked: any other name is an ``InvalidParameterError``
        (with the nearest field) unless sent through ``extra_body={...}``.

    Instantiate:
        .. code-block:: python

            from langchain_ffm_friendli import FriendliLLM

            llm = FriendliLLM(model="meta-llama-3.1-8b-instruct", max_tokens=64)

    Invoke:
        .. code-block:: python

            llm.invoke("Say this is a test")
            llm.invoke("", tokens=[128000, 2028, 374])  # token ids instead of text

    Stream:
        Only output 0 streams (``n`` must be 1); beam search cannot stream:

        .. code-block:: python

            for piece in llm.stream("Once upon a time", max_tokens=32):
                print(piece, end="")

    Async:
        .. code-block:: python

            await llm.ainvoke("Say this is a test")
            result = await llm.agenerate(["a", "b"])  # prompts sent concurrently
            result.llm_output["token_usage"]  # summed over both

    Token usage:
        ``llm.generate([...]).llm_output["token_usage"]``; streams ask for the
        usage chunk (``stream_usage=True``).

    Generation info:
        ``finish_reason``, ``seed``, ``tokens`` and ``logprobs`` when sent;
        ``llm_output`` has ``token_usage`` and ``model_name``. ``n`` > 1 gives n
        generations per prompt. Streams in the current format and in the legacy
        ``token_sampled`` format are both decoded.
    """

    request_fields = proto.COMPLETION_FIELDS
    call_only = frozenset({"model", "stream", "stream_options", "tokens"})

    bad_word_tokens: list[dict[str, list[int]]] | None = None
    bad_words: list[str] | None = None
    beam_search_type: Literal["DETERMINISTIC", "STOCHASTIC", "NAIVE_SAMPLING"] | None = None
    early_stopping: bool | None = None
    embedding_to_replace: list[float] | None = None
    encoder_no_repeat_ngram: int | None = None
    encoder_repetition_penalty: float | None = None
    eos_token: list[int] | None = None
    frequency_penalty: float | None = None
    include_output_logits: bool | None = None
    include_output_logprobs: bool | None = None
    length_penalty: float | None = None
    max_tokens: int | None = None
    max_total_tokens: int | None = None
    min_tokens: int | None = None
    min_total_tokens: int | None = None
    n: int | None = None
    no_repeat_ngram: int | None = None
    num_beams: int | None = None
    presence_penalty: float | None = None
    repetition_penalty: float | None = None
    response_format: dict[str, Any] | None = None
    seed: int | list[int] | None = None
    stop: list[str] | None = None
    stop_tokens: list[dict[str, list[int]]] | None = None
    temperature: float | None = None
    timeout_microseconds: int | None = None
    token_index_to_replace: list[int] | None = None
    top_k: int | None = None
    top_p: float | None = None
    min_p: float | None = None
    logprobs: int | None = None
    """Number of top log probabilities per token (an integer for completions)."""
    stream_usage: bool = True
    """Ask for the final usage chunk when streaming."""

    def model_post_init(self, context: Any, /) -> None:
        """Check the documented constraints at construction, naming the fields."""
        super().model_post_init(context)
        proto.validate_completions(self._settings(), stream=self.streaming)

    @property
    def _llm_type(self) -> str:
        return "friendli-llm"

    def _plan(self, call: Call[str]) -> Plan[TextResult]:
        """Validate and build one request before any I/O happens."""
        kwargs = call.kwargs
        settings = self._settings(**kwargs)
        if call.stop is not None:
            settings["stop"] = call.stop
        proto.validate_completions(settings, stream=call.stream)
        body: dict[str, Any] = {"model": self._model_for(kwargs)}
        if kwargs.get("tokens") is not None:
            body["tokens"] = list(kwargs["tokens"])
        else:
            body["prompt"] = call.input
        body.update({k: v for k, v in settings.items() if v is not None})
        body.update(self._extra(kwargs))
        if call.stream:
            body["stream"] = True
            if "stream_options" in kwargs:
                body["stream_options"] = kwargs["stream_options"]
            elif self.stream_usage:
                body["stream_options"] = {"include_usage": True}
        return Plan(
            self._request("completions", body),
            SSEFraming,
            proto.CompletionStream,
            proto.parse_completion,
        )
