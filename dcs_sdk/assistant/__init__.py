"""Virtual assistants: the interface, the built-in FAQ assistant and the loader."""

from .base import Assistant, AssistantContext, AssistantReply, Escalation, TranscriptLine, Understanding
from .escalation import wants_human
from .faq import FaqAssistant, KnowledgeBase, extract_slots, load_knowledge_base
from .loader import load_assistant

__all__ = [
    "Assistant",
    "AssistantContext",
    "AssistantReply",
    "Escalation",
    "FaqAssistant",
    "KnowledgeBase",
    "TranscriptLine",
    "Understanding",
    "extract_slots",
    "load_assistant",
    "load_knowledge_base",
    "wants_human",
]
