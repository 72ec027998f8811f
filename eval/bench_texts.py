"""Workload texts: distinct wordings of the eval questions, so no cache ever sees a text twice.

The server caches query embeddings by exact text, so a benchmark that repeats a question measures the
cache, not the query path. Residents open with greetings and close with thanks; every question is
combined with such framings, which changes the text (and its embedding) but not what is asked.
"""

from __future__ import annotations

from collections.abc import Sequence

_OPENINGS = ("", "你好，", "请问一下，", "麻烦问下，", "物业你好，", "打扰一下，", "我想咨询一下，", "您好，")
_CLOSINGS = ("", "谢谢", "，麻烦回复一下", "，谢谢了")


def distinct_texts(base: Sequence[str], n: int, *, block: int = 0) -> list[str]:
    """Block ``block`` of ``n`` texts: text ``j`` of the whole sequence is base question ``j % len(base)``
    in framing ``j // len(base)``; blocks never overlap, and texts are distinct as long as the base ones are.

    Args:
        base: Questions (duplicates are dropped, order kept).
        n: Texts in the block.
        block: Which block (0 starts with the plain questions).
    """
    questions = list(dict.fromkeys(base))
    if not questions:
        raise ValueError("distinct_texts needs at least one question")
    framings = [(o, c) for c in _CLOSINGS for o in _OPENINGS]
    out = []
    for j in range(block * n, (block + 1) * n):
        opening, closing = framings[(j // len(questions)) % len(framings)]
        text = f"{opening}{questions[j % len(questions)]}{closing}"
        rounds = j // (len(questions) * len(framings))
        out.append(f"{text}（{rounds + 1}）" if rounds else text)  # past every framing: number the round
    return out
