"""The knowledge base: its files, their schema, loading and lint."""

from kb.errors import KBError, KBValidationError
from kb.lint import LintReport, lint
from kb.load import Article, Clause, KnowledgeBase, Rules, default_kb_root, load_kb
from kb.schema import Category, Urgency

__all__ = ["Article", "Category", "Clause", "KBError", "KBValidationError", "KnowledgeBase", "LintReport", "Rules",
           "Urgency", "default_kb_root", "lint", "load_kb"]
