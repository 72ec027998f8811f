"""Turn: what one chat message is (greeting, thanks, a field reply, a status query, a report…), read first.

The phrasings live in kb/rules/turns.yaml. Safety comes first: a message that triage reads as level 1 is an
emergency whatever else it is ("你好在吗，电梯里困人了！" is not a greeting).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from assistant.tickets import TicketDraft, cn_number, parse_address, parse_name, parse_phone
from assistant.triage import Intent, Triage
from ingest.tokens import TextNormalizer
from kb.schema import Category, TriggerKind, TurnRules

_NOISE = re.compile(r"[\s\W_]+", re.UNICODE)
_WECHAT_EMOJI = re.compile(r"\[[\u4e00-\u9fffA-Za-z]{1,4}\]")  # [微笑] [捂脸]
# the wrong value a correction names: "不是5楼", "打成1308了", "not 1501", "501不对"
_WRONG_VALUE = re.compile(r"(?:不是|唔系|唔是|打成|写成|输成|误写成?)\s*[^,，。.!！?？\s]+|\bnot\s+\S+|"
                          r"[0-9一二三四五六七八九零〇幺]{3,4}(?=\s*(?:不对|错了|是错的))", re.I)
_EMOJI = re.compile("[\U0001F300-\U0001FAFF\u2600-\u27BF\uFE0F]")
_SCORE = re.compile(r"(?:我)?(?:给你们|给您|给你|给)?(?:打|评)?(?:个)?([1-5一二两三四五])(?:分|星|颗星)?(?:好评)?")
_PARTICLES = re.compile(r"[了啊呀哈呢啦哦吧嘛哟的]+$")
_DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5}


def _size(core: str) -> int:
    """The length of a message in Chinese characters: an English letter run counts about a third of its letters
    (a word is worth one or two characters), so "any update on my repair" is as short as 我的报修有进展吗."""
    latin = sum(len(run) for run in re.findall(r"[a-z0-9]+", core))
    return len(core) - latin + (latin + 2) // 3


class TurnKind(StrEnum):
    """What a chat turn is."""

    GREETING = "greeting"
    THANKS = "thanks"
    SLOT = "slot"
    CORRECTION = "correction"
    QUESTION = "question"
    REPORT = "report"
    COMPLAINT = "complaint"
    EMERGENCY = "emergency"
    STATUS = "status"
    PERSON = "person"
    CHITCHAT = "chitchat"
    RATING = "rating"

    @property
    def small_talk(self) -> bool:
        """Greeting, thanks or out-of-scope chit-chat: a short reply, no ticket, no hand-off."""
        return self in (TurnKind.GREETING, TurnKind.THANKS, TurnKind.CHITCHAT)


@dataclass(frozen=True, slots=True)
class TurnContext:
    """What the conversation knows that changes how a turn reads."""

    asked: str | None = None          # the ticket field the assistant just asked for
    case_open: bool = False           # a ticket is being filled in
    ticket: str | None = None         # a ticket filed in this conversation
    known: bool = False               # the resident gave a name, phone or address earlier in the conversation
    rating_open: bool = False         # a resolution update invited a score 1–5


@dataclass(frozen=True, slots=True)
class TurnReading:
    """A classified turn, with the cue that decided it (for logs and tests)."""

    kind: TurnKind
    cue: str
    fields: dict[str, str]
    score: int | None = None          # a rating's score (TurnKind.RATING)


_UNIT = re.compile(r"(\d{1,2}|[一二三四五六七八九十]{1,2})\s*单元")
_CN_DIGIT = "零〇一二三四五六七八九幺"
_ROOM_NUMBER = re.compile(rf"(?<![\d{_CN_DIGIT}])(\d{{3,4}}|[{_CN_DIGIT}]{{3,4}})(?![\d{_CN_DIGIT}])")
_ADDR = re.compile(r"^(?P<b>[0-9A-Z]+)(?P<bs>栋|座)(?:(?P<u>\d+)单元)?(?:(?P<r>\d{3,4})室)?$")
_FLOOR = re.compile(r"(?<![号\d])(\d{1,2})\s*(?:楼|层)(?!\d)")
_LAST_DIGITS = re.compile(r"(?:最后|后|尾号)\s*(?:[一二三四四五六]|\d)?\s*位\s*(?:是|应该是|为)?\s*(\d{2,6})")
_CLOCK = re.compile(r"(?:\d{1,2}|[一二两三四五六七八九十]{1,3})(?:点|:\d{2}|pm|am)", re.I)
_OWN_ROOM = re.compile(r"(?:我家|我屋企|我住|我们家)\s*(?:是|系|在|住)?\s*(\d{3,4})(?!\d)")
_NEW_NAME = re.compile(r"(?:是|叫|改成|应该是|错了[\s，,]*)([\u4e00-\u9fff]{2,3}?)(?:[，。,.!！\s]|$|不是)")


def _address_parts(address: str) -> dict[str, str]:
    m = _ADDR.match(address)
    return {k: v for k, v in m.groupdict().items() if v} if m else {}


def _address_join(parts: dict[str, str]) -> str:
    out = f"{parts['b']}{parts.get('bs', '栋')}" if parts.get("b") else ""
    out += f"{parts['u']}单元" if parts.get("u") else ""
    return out + (f"{parts['r']}室" if parts.get("r") else "")


class TurnClassifier:
    """Reads a chat turn with the phrasings of kb/rules/turns.yaml and the message's triage."""

    def __init__(self, rules: TurnRules) -> None:
        self._rules = rules
        norm = TextNormalizer()
        self._norm = norm

        def prep(words: list[str]) -> tuple[str, ...]:
            # longest first, then alphabetical: the same order in every process (no set-order surprises)
            cores = {_NOISE.sub("", norm(w).lower()) for w in words}  # "real person" matches "realperson"
            return tuple(sorted((w for w in cores if w), key=lambda w: (-len(w), w)))

        self._greeting = prep(rules.greeting)
        self._visit_times = prep(rules.visit_times)
        self._availability = prep(rules.availability)
        self._thanks = prep(rules.thanks)
        self._fillers = prep(rules.fillers)
        self._person = prep(rules.person)
        self._status = prep(rules.status)
        self._correction = prep(rules.correction)
        self._chitchat = prep(rules.chitchat)
        self._property = prep(rules.property_words)
        self._ratings = {_NOISE.sub("", norm(w).lower()): score for w, score in rules.ratings.items()}

    def core(self, text: str) -> str:
        """The message without punctuation, spaces and case (traditional script made simplified)."""
        return _NOISE.sub("", self._norm(text).lower())

    def _strip(self, core: str, *groups: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
        """Remove every phrase of the groups from ``core``; return what is left and what was removed."""
        removed: list[str] = []
        for group in groups:
            for w in group:
                w = _NOISE.sub("", w)
                if w and w in core:
                    removed.append(w)
                    core = core.replace(w, "")
        return _EMOJI.sub("", core), tuple(removed)

    def rating(self, text: str) -> int | None:
        """The score 1–5 a message gives, when that is all it says ("5分", "给你们打五星", "非常满意，谢谢")."""
        core = _EMOJI.sub("", self.core(_WECHAT_EMOJI.sub("", text)))
        polite = _PARTICLES.sub("", self._strip(core, self._thanks)[0])  # "非常满意，辛苦师傅了" → 非常满意
        for candidate in (core, polite):
            if candidate in self._ratings:
                return self._ratings[candidate]
            m = _SCORE.fullmatch(candidate)
            if m:
                return int(m.group(1)) if m.group(1).isdigit() else _DIGITS[m.group(1)]
        return None

    def about_property(self, text: str) -> bool:
        """Whether the message mentions anything a property company deals with (else it is chit-chat)."""
        core = self.core(text)
        return any(w in core for w in self._property)

    def corrected(self, text: str, draft: TicketDraft) -> dict[str, str]:
        """The fields a correction replaces ("不是5楼，是6楼", "电话打错了，是139…", "是9栋"), merged into the draft.

        A partial address replaces only the parts it names; a new floor changes the room number's floor.
        """
        out: dict[str, str] = {}
        tail = _WRONG_VALUE.sub("", self._norm(text))
        phone = parse_phone(text)
        if phone:
            out["phone"] = phone
        elif draft.phone and (m := _LAST_DIGITS.search(text)):
            out["phone"] = draft.phone[: len(draft.phone) - len(m.group(1))] + m.group(1)
        old = _address_parts(draft.address or "")
        new_addr = parse_address(tail) or parse_address(text)
        if new_addr:
            new = _address_parts(new_addr)
            out["address"] = _address_join({**old, **new}) if old and new else new_addr
        else:
            unit = _UNIT.search(tail)
            rooms = [cn_number(r) for r in _ROOM_NUMBER.findall(tail)]
            own = _OWN_ROOM.search(tail)
            # "我家是502 302是我妈家": the first number is the answer, unless one is named as the resident's own
            # ("905是我朋友家，我家是906")
            room = own.group(1) if own else rooms[0] if rooms else None
            floors = _FLOOR.findall(text)
            if old and (unit or room):
                out["address"] = _address_join({**old, **({"u": cn_number(unit.group(1))} if unit else {}),
                                                **({"r": room} if room else {})})
            elif old.get("r") and floors:
                floor = floors[-1]
                room_no = old["r"]
                out["address"] = _address_join({**old, "r": floor + room_no[-2:]})
        name = parse_name(tail) or (m.group(1) if (m := _NEW_NAME.search(tail)) else None)
        if not out and name:
            out["resident_name"] = re.sub(r"^(?:是|叫|系)(?=[\u4e00-\u9fff]{2})", "", name)  # "错了，是王蕾" → 王蕾
        return out

    def visit_time(self, core: str, size: int) -> str | None:
        """The time word of a message that offers a time for a visit ("明天下午两点以后都在家", "anytime after 6pm")."""
        when = next((w for w in self._visit_times if w in core), None) or (
            m.group(0) if (m := _CLOCK.search(core)) else None)
        if when is None:
            return None
        offers = any(w in core for w in self._availability)
        return when if offers or size <= 10 else None

    def fields(self, text: str) -> dict[str, str]:
        """Ticket fields the message gives (name, phone, address)."""
        found = {"resident_name": parse_name(text), "phone": parse_phone(text), "address": parse_address(text)}
        return {k: v for k, v in found.items() if v}

    def _pleasantries(self, core: str) -> tuple[str, ...] | None:
        """Read ``core`` left to right as greeting/thanks/filler words (longest match); None if anything else."""
        words = [_NOISE.sub("", w) for w in (*self._greeting, *self._thanks, *self._fillers)]
        words = sorted({w for w in words if w}, key=lambda w: (-len(w), w))
        out: list[str] = []
        i = 0
        while i < len(core):
            w = next((w for w in words if core.startswith(w, i)), None)
            if w is None:
                return None
            out.append(w)
            i += len(w)
        return tuple(out)

    def small_talk(self, text: str) -> TurnKind | None:
        """GREETING or THANKS when the whole message is only pleasantries, else None."""
        core = _EMOJI.sub("", self.core(_WECHAT_EMOJI.sub("", text)))
        if len(core) > self._rules.small_talk_max_chars:
            return None
        removed = self._pleasantries(core)
        if removed is None or not (removed or _EMOJI.search(text)):
            return None
        greeting_words = {_NOISE.sub("", w) for w in self._greeting}
        if any(w in greeting_words for w in removed) and not any(
                w in {_NOISE.sub("", t) for t in self._thanks} for w in removed):
            return TurnKind.GREETING
        return TurnKind.THANKS

    def classify(self, text: str, triage: Triage, context: TurnContext) -> TurnReading:
        """Decide what the turn is.

        Order matters: an emergency first (safety), a score after a resolution update, then field replies while a
        ticket is being filled in,
        corrections, requests for a person, status queries, pleasantries, chit-chat, and finally what
        triage says (report, complaint or question).
        """
        core = self.core(text)
        fields = self.fields(text)
        problem = triage.intent is Intent.REPORT
        if triage.intent is Intent.EMERGENCY:
            return TurnReading(TurnKind.EMERGENCY, "triage level 1", fields)
        if context.rating_open and not context.case_open and (score := self.rating(text)) is not None:
            return TurnReading(TurnKind.RATING, f"score {score}", fields, score)
        pleasantry = self.small_talk(text)
        if pleasantry is not None:
            return TurnReading(pleasantry, "pleasantries only", fields)
        size = _size(core)
        person = next((c for c in self._person if c in core), None) or ("人工" if core == "人工" else None)
        chit = next((c for c in self._chitchat if c in core), None)
        if person and chit and not any(c in core.replace(chit, "|") for c in self._person):
            return TurnReading(TurnKind.CHITCHAT, chit, fields)  # "你是机器人吗" asks what the assistant is
        if person and (not problem or size <= 16):
            return TurnReading(TurnKind.PERSON, person, fields)
        correction = next((c for c in self._correction if c in core), None)
        if correction and (fields or re.search(r"\d", core) or context.case_open or context.known) and (
                context.case_open or context.ticket or context.known or not problem):
            return TurnReading(TurnKind.CORRECTION, correction, fields)
        rest, _ = self._strip(core, self._greeting, self._thanks, self._fillers)
        if fields and context.case_open and not any(i.level_cues for i in triage.issues if i.urgency <= 2):
            return TurnReading(TurnKind.SLOT, ",".join(fields), fields)  # the asked-for details, with chatter
        if fields and (context.case_open or not problem):
            # what is left once the fields are gone is short: a reply to the question the assistant asked
            leftover = rest
            for v in fields.values():
                leftover = leftover.replace(self.core(v), "")
            leftover = re.sub(r"\d+|栋|单元|室|号楼|号|楼|电话|手机|我叫|我是|我姓|姓|叫|先生|女士|名字|称呼|住在?", "",
                              leftover)
            if len(leftover) <= 5 or (context.case_open and not triage.issues):
                return TurnReading(TurnKind.SLOT, ",".join(fields), fields)
        visit = self.visit_time(core, size)
        if visit and (context.ticket or context.case_open) and not any(i.urgency <= 2 for i in triage.issues):
            # "明天下午两点以后都在家" after a report: when to come, not a question about rules
            return TurnReading(TurnKind.SLOT, visit, {**fields, "preferred_time": text.strip()})
        status = next((c for c in self._status if c in core), None)
        repeat = TriggerKind.REPEAT in triage.signals  # "报修三次了还没人来" is a repeat complaint, not a status query
        personal = context.ticket or context.case_open or any(self.core(w) in core for w in self._rules.status_personal)
        short_follow_up = bool(context.ticket) and size <= 12  # "咋还没人来" right after filing
        own = bool(context.ticket) and any(self.core(w) in core for w in self._rules.status_personal)
        if status and personal and (not repeat or short_follow_up) and (
                size <= self._rules.status_max_chars or not problem or own):
            return TurnReading(TurnKind.STATUS, status, fields)
        if context.case_open and context.asked and not problem and not triage.asks and len(core) <= 20:
            return TurnReading(TurnKind.SLOT, f"answer to {context.asked}", fields)
        if chit and not any(i.level_cues and not i.level_cues[0].startswith("相似") for i in triage.issues):
            return TurnReading(TurnKind.CHITCHAT, chit, fields)
        if problem:
            kind = TurnKind.COMPLAINT if triage.category is Category.COMPLAINT else TurnKind.REPORT
            return TurnReading(kind, f"triage {triage.category}", fields)
        return TurnReading(TurnKind.QUESTION, "no other reading", fields)
