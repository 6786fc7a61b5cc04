"""The emulator's base classes say what a provider or a face must implement, at construction."""

from __future__ import annotations

import pytest

from langchain_ffm_friendli.testing import Emulator, EmulatorClient
from langchain_ffm_friendli.testing._exchange import Provider, Route
from langchain_ffm_friendli.testing._face import EmulatorFace


def test_a_provider_without_routes_or_unknown_model_answer_cannot_be_built() -> None:
    class Half(Provider, name="half", prefix="/half", models=frozenset({"m"})):
        def routes(self) -> list[Route]:
            return []

    with pytest.raises(TypeError, match="unknown_model"):
        Half()


def test_a_face_without_url_or_queue_cannot_be_built_and_both_faces_are_complete() -> None:
    class Faceless(EmulatorFace):
        pass

    with pytest.raises(TypeError, match=r"queued.*url|url.*queued"):
        Faceless()
    assert not Emulator.__abstractmethods__
    assert not EmulatorClient.__abstractmethods__
