"""Personal data (phone numbers, room numbers, names given with a form of address) masked for logs and reports."""

from __future__ import annotations

import logging
import re

_MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)[\s-]?(\d{4})[\s-]?(\d{4})(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)(0\d{2,3})-?(\d{3,4})(\d{4})(?!\d)")
_ROOM = re.compile(r"((?:\d{1,3}|[A-Za-z一二三四五六七八九十]{1,3})\s*(?:栋|号楼|幢|座)\s*(?:\d{1,2}\s*单元)?)"
                   r"\s*\d{3,4}\s*(室|号|房)?")
_NAME = re.compile(r"(?<![\u4e00-\u9fff])([\u4e00-\u9fff])[\u4e00-\u9fff]?(先生|女士|小姐|阿姨|大爷|奶奶)")
_CALLED = re.compile(r"(我叫|我是|姓名[:：]|名字[:：])([\u4e00-\u9fff])([\u4e00-\u9fff]{1,2})(?=[，,。\s\d]|$)")


def mask(text: str) -> str:
    """Mask phones (138****5678), room numbers (3栋2单元***室) and personal names (张*, *先生)."""
    text = _MOBILE.sub(lambda m: f"{m.group(1)}****{m.group(3)}", text)
    text = _LANDLINE.sub(lambda m: f"{m.group(1)}-****{m.group(3)}", text)
    text = _ROOM.sub(lambda m: f"{m.group(1)}***{m.group(2) or '室'}", text)
    text = _NAME.sub(lambda m: f"*{m.group(2)}", text)
    return _CALLED.sub(lambda m: f"{m.group(1)}{m.group(2)}{'*' * len(m.group(3))}", text)


class MaskingFilter(logging.Filter):
    """A logging filter that masks personal data in every record's message."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's message with personal data masked; never drops a record."""
        record.msg = mask(record.getMessage())
        record.args = None
        return True


def install_log_masking() -> None:
    """Mask personal data on every handler of the root logger (and of uvicorn's)."""
    for name in ("", "uvicorn", "uvicorn.error", "uvicorn.access", "wuye.api"):
        logger = logging.getLogger(name)
        for handler in logger.handlers or []:
            if not any(isinstance(f, MaskingFilter) for f in handler.filters):
                handler.addFilter(MaskingFilter())
        if not any(isinstance(f, MaskingFilter) for f in logger.filters):
            logger.addFilter(MaskingFilter())
