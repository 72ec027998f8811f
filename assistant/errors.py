"""Errors of the assistant package.

AssistantError
 ├── RetrievalError       the index cannot answer (not loaded, wrong model)
 ├── CorrectionError      an agent correction cannot be stored, approved or written to the KB
 ├── TurnNotFoundError    no such answer in the caller's conversations
 ├── ConversationNotFoundError  no such conversation (or not the caller's)
 ├── AgentMessageError    an agent's message cannot go into a conversation (not joined, a banned phrase)
 ├── TicketError          a ticket operation is not allowed
 │    ├── TransitionError     the lifecycle forbids the move, or its checks fail
 │    ├── MissingFieldError   a mandatory field is empty (seed 1.3 null check)
 │    └── TicketNotFoundError no such ticket (or not the caller's)
 ├── RosterError          an on-call roster names a department or person nobody can page
 │    └── RosterConflictError  someone saved the roster since it was read
 ├── ChannelError         an outside channel (WeChat Work) did not take a message
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

    def __init__(self, conversation_id: str, *, hint: str = "omit conversation_id to start a new one") -> None:
        super().__init__(f"conversation {conversation_id} not found" + (f"; {hint}" if hint else ""))
        self.conversation_id = conversation_id


class AgentMessageError(AssistantError):
    """An agent's message cannot go into the conversation; ``code`` and ``status`` say why (HTTP's words)."""

    def __init__(self, message: str, *, code: str, status: int) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


class ComposerError(AssistantError):
    """The optional LLM failed or answered outside the retrieved entries."""


class RosterError(AssistantError):
    """An on-call roster the pager could not use; ``field`` is the path of the bad value."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


class RosterConflictError(RosterError):
    """The roster was saved by someone else since the caller read it (no save is lost silently)."""

    def __init__(self, base_version: int, current_version: int) -> None:
        super().__init__("base_version", f"the roster was edited from version {base_version}, but version "
                         f"{current_version} is now in force; reload it and apply your change again")
        self.base_version = base_version
        self.current_version = current_version


class ChannelError(AssistantError):
    """An outside channel did not take a message (the message names the call and the provider's code, no secrets)."""
