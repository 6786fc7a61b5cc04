"""FriendliLLM: LangChain text-completion model for Friendli's ``/completions``."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from langchain_ffm_friendli._base import Wire, placed
from langchain_ffm_friendli._planned import Call, Plan, PlannedLLM, TextResult
from langchain_ffm_friendli._wire import SSEFraming
from langchain_ffm_friendli.friendli import _protocol as proto
from langchain_ffm_friendli.friendli._settings import FriendliClientSettings

__all__ = ["FriendliLLM"]

BeamSearchType = Literal["DETERMINISTIC", "STOCHASTIC", "NAIVE_SAMPLING"]


class FriendliLLM(FriendliClientSettings, PlannedLLM):
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

    read_per_call = frozenset({"stream_options", "tokens"})

    bad_word_tokens: Annotated[list[dict[str, list[int]]] | None, Wire()] = None
    bad_words: Annotated[list[str] | None, Wire()] = None
    beam_search_type: Annotated[
        Literal["DETERMINISTIC", "STOCHASTIC", "NAIVE_SAMPLING"] | None, Wire()
    ] = None
    early_stopping: Annotated[bool | None, Wire()] = None
    embedding_to_replace: Annotated[list[float] | None, Wire()] = None
    encoder_no_repeat_ngram: Annotated[int | None, Wire()] = None
    encoder_repetition_penalty: Annotated[float | None, Wire()] = None
    eos_token: Annotated[list[int] | None, Wire()] = None
    frequency_penalty: Annotated[float | None, Wire()] = None
    include_output_logits: Annotated[bool | None, Wire()] = None
    include_output_logprobs: Annotated[bool | None, Wire()] = None
    length_penalty: Annotated[float | None, Wire()] = None
    max_tokens: Annotated[int | None, Wire()] = None
    max_total_tokens: Annotated[int | None, Wire()] = None
    min_tokens: Annotated[int | None, Wire()] = None
    min_total_tokens: Annotated[int | None, Wire()] = None
    n: Annotated[int | None, Wire()] = None
    no_repeat_ngram: Annotated[int | None, Wire()] = None
    num_beams: Annotated[int | None, Wire()] = None
    presence_penalty: Annotated[float | None, Wire()] = None
    repetition_penalty: Annotated[float | None, Wire()] = None
    response_format: Annotated[dict[str, Any] | None, Wire()] = None
    seed: Annotated[int | list[int] | None, Wire()] = None
    stop: Annotated[list[str] | None, Wire()] = None
    stop_tokens: Annotated[list[dict[str, list[int]]] | None, Wire()] = None
    temperature: Annotated[float | None, Wire()] = None
    timeout_microseconds: Annotated[int | None, Wire()] = None
    token_index_to_replace: Annotated[list[int] | None, Wire()] = None
    top_k: Annotated[int | None, Wire()] = None
    top_p: Annotated[float | None, Wire()] = None
    min_p: Annotated[float | None, Wire()] = None
    logprobs: Annotated[int | None, Wire()] = None
    """Number of top log probabilities per token (an integer for completions)."""
    stream_usage: bool = True
    """Ask for the final usage chunk when streaming."""

    def model_post_init(self, context: Any, /) -> None:
        """Check the documented constraints at construction, naming the fields."""
        super().model_post_init(context)
        proto.validate_completions(self.field_values(), stream=self.streaming)

    @property
    def _llm_type(self) -> str:
        return "friendli-llm"

    def _plan(self, call: Call[str]) -> Plan[TextResult]:
        """Validate and build one request before any I/O happens."""
        kwargs = call.kwargs
        proto.validate_completions(call.values, stream=call.stream)
        body: dict[str, Any] = {"model": self._model_for(kwargs)}
        if kwargs.get("tokens") is not None:
            body["tokens"] = list(kwargs["tokens"])
        else:
            body["prompt"] = call.input
        body.update(placed(call.values, self.wire_fields()))
        body.update(self.verbatim_fields(kwargs))
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
