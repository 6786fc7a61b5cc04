"""FFM (Formosa Foundation Model on TWCC/TWSC AFS) integration."""

from langchain_ffm_friendli.ffm.chat_models import ChatFFM
from langchain_ffm_friendli.ffm.embeddings import FFMEmbeddings
from langchain_ffm_friendli.ffm.llms import FFMLLM

__all__ = ["FFMLLM", "ChatFFM", "FFMEmbeddings"]
