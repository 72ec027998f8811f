"""Errors of the assistant package.

AssistantError
 ├── RetrievalError       the index cannot answer (not loaded, wrong model)
 ├── CorrectionError      an agent correction cannot be stored, approved or written to the KB
 ├── TurnNotFoundError    no such answer in the caller's conversations
 ├── TicketError          a ticket operation is not allowed
 │    ├── TransitionError     the lifecycle forbids the move, or its checks fail
 │    ├── MissingFieldError   a mandatory field is empty (seed 1.3 null check)
 │    └── TicketNotFoundError no such ticket (or not the caller's)
 └── ComposerError        an LLM failed (callers fall back to the extractive answer)
"""

from __future__ import annotations


class AssistantError(Exception):
    """Base class for assistant failures."""


class RetrievalError(AssistantError):
    """The index cannot answer."""


class CorrectionError(AssistantError):
    """An agent correction cannot be stored, reviewed or turned into a curated entry; ``status`` is the HTTP one."""

    def __init__(self, message: str, *, status: int = 422) -> None:
        super().__init__(message)
        self.status = status


class TurnNotFoundError(AssistantError):
    """No such answer turn, or it is in another resident's conversation (the two are not told apart)."""

    def __init__(self, turn_id: int) -> None:
        super().__init__(f"answer {turn_id} not found in your conversations")
        self.turn_id = turn_id


class TicketError(AssistantError):
    """A ticket operation is not allowed."""


class TransitionError(TicketError):
    """The lifecycle forbids the move, or its checks fail."""


class MissingFieldError(TicketError):
    """A mandatory field is empty; names every missing field."""

    def __init__(self, fields: tuple[str, ...]) -> None:
        super().__init__(f"mandatory field(s) empty: {', '.join(fields)}; a ticket cannot be submitted without them")
        self.fields = fields


class TicketNotFoundError(TicketError):
    """No such ticket, or it belongs to someone else."""

    def __init__(self, ticket: str) -> None:
        super().__init__(f"ticket {ticket} not found")
        self.ticket = ticket


class ConversationNotFoundError(AssistantError):
    """No such conversation, or it belongs to someone else (the two are not told apart)."""

    def __init__(self, conversation_id: str) -> None:
        super().__init__(f"conversation {conversation_id} not found; omit conversation_id to start a new one")
        self.conversation_id = conversation_id


class ComposerError(AssistantError):
    """The optional LLM failed or answered outside the retrieved entries."""
