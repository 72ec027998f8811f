"""Company documents (Markdown, TXT, HTML, DOCX, PDF) → sections of text with their heading paths."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ingest.errors import LoaderError

SUPPORTED = (".md", ".markdown", ".txt", ".html", ".htm", ".docx", ".pdf")
_HEADING_STYLE = re.compile(r"^(Heading|标题)\s*(\d)")


@dataclass(frozen=True, slots=True)
class Section:
    """A run of text under one heading path."""

    heading_path: tuple[str, ...]
    text: str


@dataclass(frozen=True, slots=True)
class SourceDocument:
    """A loaded company document: its title, sections and a hash of the raw bytes."""

    path: Path
    title: str
    sections: tuple[Section, ...]
    sha256: str


class _SectionBuilder:
    """Collects text under a stack of headings."""

    def __init__(self, title: str) -> None:
        self.title = title
        self.stack: list[tuple[int, str]] = []
        self.lines: list[str] = []
        self.sections: list[Section] = []

    def heading(self, level: int, text: str) -> None:
        self.flush()
        if not self.stack and level == 1 and not self.sections:
            self.title = text
        self.stack = [(lv, h) for lv, h in self.stack if lv < level] + [(level, text)]

    def line(self, text: str) -> None:
        if text.strip():
            self.lines.append(text.strip())

    def flush(self) -> None:
        if self.lines:
            path = tuple(h for _, h in self.stack if h != self.title)
            self.sections.append(Section((self.title, *path), "\n".join(self.lines)))
            self.lines = []


def _decode(path: Path, raw: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise LoaderError(path, "text is neither UTF-8 nor GB18030")


def _load_markdown(path: Path, raw: bytes) -> _SectionBuilder:
    from markdown_it import MarkdownIt

    text = _decode(path, raw)
    b = _SectionBuilder(path.stem)
    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    for i, tok in enumerate(tokens):
        if tok.type == "heading_open":
            b.heading(int(tok.tag[1]), tokens[i + 1].content.strip())
        elif tok.type == "inline" and (i == 0 or tokens[i - 1].type != "heading_open"):
            b.line(tok.content)
        elif tok.type in ("fence", "code_block"):
            b.line(tok.content)
    return b


def _load_text(path: Path, raw: bytes) -> _SectionBuilder:
    b = _SectionBuilder(path.stem)
    for paragraph in re.split(r"\n\s*\n", _decode(path, raw)):
        b.line(" ".join(paragraph.split("\n")))
    return b


def _load_html(path: Path, raw: bytes) -> _SectionBuilder:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(raw, "html.parser")
    for junk in soup(["script", "style", "nav", "footer"]):
        junk.decompose()
    title = soup.title.get_text(strip=True) if soup.title else path.stem
    b = _SectionBuilder(title or path.stem)
    body = soup.body or soup
    for el in body.find_all(["h1", "h2", "h3", "h4", "p", "li", "td", "pre"]):
        text = el.get_text(" ", strip=True)
        if el.name and el.name[0] == "h":
            b.heading(int(el.name[1]), text)
        elif not el.find(["p", "li"]):
            b.line(text)
    return b


def _load_docx(path: Path, raw: bytes) -> _SectionBuilder:
    import io
    import zipfile

    from docx import Document
    from docx.opc.exceptions import PackageNotFoundError

    try:
        doc = Document(io.BytesIO(raw))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise LoaderError(path, f"not a readable DOCX file ({exc})") from exc
    title = doc.core_properties.title or path.stem
    b = _SectionBuilder(title)
    for para in doc.paragraphs:
        style = para.style.name if para.style is not None else ""
        match = _HEADING_STYLE.match(style or "")
        if style == "Title":
            b.heading(1, para.text.strip())
        elif match:
            b.heading(int(match.group(2)), para.text.strip())
        else:
            b.line(para.text)
    for table in doc.tables:
        for row in table.rows:
            b.line(" | ".join(cell.text.strip() for cell in row.cells))
    return b


def _load_pdf(path: Path, raw: bytes) -> _SectionBuilder:
    import io

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(raw))
        title = (reader.metadata.title if reader.metadata else None) or path.stem
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PdfReadError, ValueError, KeyError, OSError) as exc:
        raise LoaderError(path, f"not a readable PDF file ({exc})") from exc
    b = _SectionBuilder(title)
    for number, text in enumerate(pages, start=1):
        b.heading(2, f"第{number}页")
        for paragraph in re.split(r"\n\s*\n", text):
            b.line(paragraph.replace("\n", ""))
    return b


_LOADERS: dict[str, Callable[[Path, bytes], _SectionBuilder]] = {
    ".md": _load_markdown,
    ".markdown": _load_markdown,
    ".txt": _load_text,
    ".html": _load_html,
    ".htm": _load_html,
    ".docx": _load_docx,
    ".pdf": _load_pdf,
}


def load_document(path: Path) -> SourceDocument:
    """Read a company document into sections.

    Args:
        path: A .md, .txt, .html, .docx or .pdf file.

    Returns:
        The document with its title and sections.

    Raises:
        LoaderError: Unsupported type, unreadable or corrupted file, or no text in it.
    """
    loader = _LOADERS.get(path.suffix.lower())
    if loader is None:
        raise LoaderError(path, f"unsupported file type {path.suffix!r}; supported: {', '.join(SUPPORTED)}")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise LoaderError(path, f"cannot read file ({exc.strerror})") from exc
    builder = loader(path, raw)
    builder.flush()
    if not builder.sections:
        raise LoaderError(path, "no text found (scanned PDFs need OCR first)")
    return SourceDocument(path, builder.title, tuple(builder.sections), hashlib.sha256(raw).hexdigest())


def find_documents(folder: Path) -> list[Path]:
    """Every supported document under ``folder``, sorted, hidden files skipped."""
    return sorted(
        p for p in folder.rglob("*")
        if p.is_file() and p.suffix.lower() in SUPPORTED and not any(part.startswith(".") for part in p.parts)
    )
