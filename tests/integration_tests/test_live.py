"""The standard suites against the real providers, when their keys are in the environment.

Run them with `pytest -m live tests/integration_tests/test_live.py` (the normal
`make test` run allows only loopback traffic, so they are skipped there).
Models come from FFM_MODEL, FRIENDLI_MODEL and MONSTER_MODEL when set.
"""

import os

import pytest
from langchain_tests.integration_tests import ChatModelIntegrationTests, EmbeddingsIntegrationTests

from langchain_ffm_friendli import ChatFFM, ChatFriendli, ChatMonsterAPI, FFMEmbeddings


def _needs(key: str) -> list[pytest.MarkDecorator]:
    return [
        pytest.mark.live,
        pytest.mark.skipif(not os.environ.get(key), reason=f"{key} is not set"),
    ]


class TestChatFFMLive(ChatModelIntegrationTests):
    pytestmark = _needs("FFM_API_KEY")

    @property
    def chat_model_class(self) -> type[ChatFFM]:
        return ChatFFM

    @property
    def chat_model_params(self) -> dict:
        return {"model": os.environ.get("FFM_MODEL", "llama3.3-ffm-70b-32k-chat"), "temperature": 0}


class TestFFMEmbeddingsLive(EmbeddingsIntegrationTests):
    pytestmark = _needs("FFM_API_KEY")

    @property
    def embeddings_class(self) -> type[FFMEmbeddings]:
        return FFMEmbeddings

    @property
    def embedding_model_params(self) -> dict:
        return {"model": os.environ.get("FFM_EMBEDDING_MODEL", "ffm-embedding-v2.1")}


class TestChatFriendliLive(ChatModelIntegrationTests):
    pytestmark = _needs("FRIENDLI_TOKEN")

    @property
    def chat_model_class(self) -> type[ChatFriendli]:
        return ChatFriendli

    @property
    def chat_model_params(self) -> dict:
        return {
            "model": os.environ.get("FRIENDLI_MODEL", "meta-llama-3.1-8b-instruct"),
            "temperature": 0,
        }

    @property
    def supports_json_mode(self) -> bool:
        return True


class TestChatMonsterAPILive(ChatModelIntegrationTests):
    pytestmark = _needs("MONSTER_API_KEY")

    @property
    def chat_model_class(self) -> type[ChatMonsterAPI]:
        return ChatMonsterAPI

    @property
    def chat_model_params(self) -> dict:
        return {
            "model": os.environ.get("MONSTER_MODEL", "meta-llama/Meta-Llama-3.1-8B-Instruct"),
            "temperature": 0,
            "max_tokens": 256,
        }
