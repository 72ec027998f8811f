"""The resident assistant: retrieval, triage, escalation, tickets, SLA clocks, answers and agent assist."""

from assistant.errors import AssistantError, MissingFieldError, TicketError, TicketNotFoundError, TransitionError
from assistant.retrieve import HybridRetriever
from assistant.service import AssistantService, ConversationState, Reply
from assistant.settings import AssistantSettings, RetrievalSettings
from assistant.triage import Intent, Triage, Triager

__all__ = ["AssistantError", "AssistantService", "AssistantSettings", "ConversationState", "HybridRetriever",
           "Intent", "MissingFieldError", "Reply", "RetrievalSettings", "TicketError", "TicketNotFoundError",
           "TransitionError", "Triage", "Triager"]
