"""FFM (Formosa Foundation Model on TWCC/TWSC AFS) integration."""

from langchain_ffm_friendli.ffm.chat_models import ChatFFM

__all__ = ["ChatFFM"]
