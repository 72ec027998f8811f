"""Tickets (工单): field extraction from resident text, the draft, mandatory-field checks, the lifecycle."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from enum import StrEnum

from assistant.errors import MissingFieldError, TransitionError
from kb.schema import TicketField

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "幺": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
              "八": 8, "九": 9, "十": 10}
_PHONE = re.compile(r"(?<!\d)(1[3-9]\d)[\s-]?(\d{4})[\s-]?(\d{4})(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)(0\d{2,3})-?(\d{7,8})(?!\d)")
_NUM = r"(\d{1,3}|[一二三四五六七八九十两]{1,3}|[A-Za-z])"
_BUILDING = re.compile(_NUM + r"\s*(?:栋|棟|号楼|號樓|幢|座|号院|楼(?=\s*\d))|"
                       r"(?:building|bldg|blk|block)\.?\s*(\d{1,3}|[a-z])\b", re.I)
_UNIT = re.compile(r"(\d{1,2}|[一二三四五六七八九十]{1,2})\s*(?:单元|單元)|unit\s*(\d{1,2})\b", re.I)
_ROOM_CN = r"[零〇一幺二三四五六七八九]{3,4}"
_ROOM = re.compile(r"(?<![\d.])(?:room\s*)?(\d{3,4}|" + _ROOM_CN + r")(?:\s*(?:室|号|房|户))?"
                   r"(?![\d.]|\s*(?:元|块|平|米|分|年|月|日|号楼|栋|单元|次|天|小时|楼))", re.I)
_DASHED = re.compile(r"(?<![\d-])(\d{1,2})[-－—](\d{1,2})[-－—](\d{3,4})(?![\d-])")
_BUILDING_SIGN = re.compile(r"(?<=\d)\s*#\s*(?:楼|栋)?|(?<=\d)\s*號樓")  # 9#楼, 9#
_ENGLISH_ROOM = re.compile(r"\b(?:rm|room|flat|apt)\.?\s*(\d{3,4})\b", re.I)
_SEPARATORS = "-— 的，,、:：户家是号我住在"
_FILLER = re.compile(r"(?:那栋|那幢|那边|那个|这边|那|的|家是|房号是?|房间号?是?|门牌号?是?|是|户|[，,、:：\s-])*")
_SURNAME_HONORIFIC = (r"(?:(?![的是我你他她在叫室号楼栋座找打给])[\u4e00-\u9fff]){1,2}"
                      r"(?:先生|女士|小姐|阿姨|大爷|奶奶|老师|师傅)")
# the most common surnames (about 90 % of people): a bare name at the start of a message must begin with one
_SURNAMES = ("[王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚"
             "卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤]")
_NAME_PATTERNS = (
    re.compile(r"(?:^|[，,。.！!\s\d室的]|我是|本人|我|找|联系|爱人|老婆|老公|妻子|丈夫|家属)(" + _SURNAME_HONORIFIC
               + r")(?=$|[，,。.！!\s\d]|电话|手机|住|家|就)"),
    re.compile(r"(?:我叫|我是业主|的业主|我是|本人|业主姓名[:：]?|姓名[:：]?|名字是|名字叫|名字[:：]?|联系人[:：]?|人叫|"
               r"业主叫|业主是|户主叫|户主是)\s*"
               r"([\u4e00-\u9fff]{2,4}?)(?=[，,。.！!\s]|电话|手机|住|$|\d)"),
    re.compile(r"(?:^|[，,。\s])([\u4e00-\u9fff]{2,3})[\s，,]*(?:电话|手机)?[:：\s]*1[3-9]\d"),
    re.compile(r"(?i:my name is|this is|i am|i'm|name:?)\s+([A-Z][a-z]+(?: [A-Z][a-z]+)?)"),
    re.compile(r"(?:^|[,，.\s])([A-Z][a-z]+ [A-Z][a-z]+)[\s,，]*(?i:tel|phone|mobile)?[:：\s]*\+?(?:86)?\s*1[3-9]\d"),
    re.compile(r"^\s*((?:" + _SURNAMES + r")[\u4e00-\u9fff]{1,2})[，,、\s]+(?=\d|[一二三四五六七八九十]+(?:栋|号楼))"),
    re.compile(r"我姓([\u4e00-\u9fff])"),
)
_NOT_NAMES = frozenset({"业主", "住户", "租户", "老人", "这边", "楼上", "楼下", "物业", "一个", "你们", "他们", "本人",
                        "电话", "手机", "号码", "联系", "我的", "快点来", "谢谢", "你好", "麻烦", "快点", "好吧",
                        "行吧", "可以", "没有", "不用", "收到", "知道", "明白", "嗯嗯", "对的", "是的", "赶紧", "尽快",
                        "多久", "什么时候", "现在", "马上", "稍等", "等等", "不对", "对对", "好好",
                        "视障人士", "残疾人", "残障人士", "孕妇", "病人", "患者", "老人家", "独居老人"})
_SURNAME_THEN_NAME = re.compile(
    r"姓([\u4e00-\u9fff])[，,、\s]*(?:叫|名叫)?((?:\1)[\u4e00-\u9fff]{1,2})(?![\u4e00-\u9fff])")
_NOT_IN_NAME = re.compile(r"[他她你我的是在了吗呢吧啊和跟给找说要住家楼栋单元室号电手机话]")
_WHEN = re.compile(r"(今天|昨天|昨晚|前天|刚才|刚刚|早上|上午|中午|下午|晚上|半夜|凌晨|\d+\s*(?:点|号|天|小时|分钟)|"
                   r"[一二三四五六七八九十两几]+\s*(?:天|个月|周|星期|小时))[^，。,！？]*")
_WHERE = re.compile(r"(厨房|卫生间|洗手间|厕所|客厅|卧室|阳台|楼道|走廊|电梯|车库|地下室|大堂|门口|楼顶|天台|小区门口|"
                    r"单元门|花园|广场|停车场|楼梯间|外墙|屋顶|天花板|墙面|窗户)")


def cn_number(token: str) -> str:
    """A number written in digits or Chinese numerals (十二, 一零零三, 幺三九…) as digits."""
    return _cn_num(token)


def _cn_num(token: str) -> str:
    if token.isdigit():
        return str(int(token))
    if re.fullmatch(r"[A-Za-z]", token):
        return token.upper()
    if "十" not in token:
        return "".join(str(_CN_DIGITS.get(ch, "")) for ch in token)
    if token == "十":
        return "10"
    if token.startswith("十"):
        return str(10 + _CN_DIGITS.get(token[1:], 0))
    if token.endswith("十"):
        return str(_CN_DIGITS.get(token[0], 0) * 10)
    a, b = token.split("十", 1)
    return str(_CN_DIGITS.get(a, 0) * 10 + _CN_DIGITS.get(b, 0))


_CN_DIGIT_RUN = re.compile(r"[零〇一幺二两三四五六七八九]{7,}")
_SPACED_DIGITS = re.compile(r"(?<!\d)\d(?:[ \u3000]\d){6,}(?!\d)")  # "1 3 9 0 5 6 7 8 1 2 3" (spoken digit by digit)


def _digits_view(text: str) -> str:
    """The text with a number spoken as Chinese digits (幺三九零…) or spaced digit by digit written as digits."""
    text = _CN_DIGIT_RUN.sub(lambda m: "".join(str(_CN_DIGITS[ch]) for ch in m.group(0)), text)
    return _SPACED_DIGITS.sub(lambda m: m.group(0).replace(" ", "").replace("\u3000", ""), text)


def parse_phone(text: str) -> str | None:
    """A mobile (11 digits) or landline number in the text, digits only (landline keeps its dash).

    Also read when written as Chinese digits (幺三九零零…, 一八六…) or digit by digit with spaces.
    """
    text = _digits_view(text)
    m = _PHONE.search(text)
    if m:
        return "".join(m.groups())
    m = _LANDLINE.search(text)
    return f"{m.group(1)}-{m.group(2)}" if m else None


def _unit_room(rest: str) -> tuple[str, str]:
    """Unit and room at the start of ``rest`` (after a building), past filler words ("那栋，2单元，家是1404")."""
    rest = rest.lstrip(_SEPARATORS)
    rest = rest[_FILLER.match(rest).end():]  # type: ignore[union-attr]  # the pattern always matches
    unit = ""
    u = _UNIT.match(rest)
    if u:
        unit = f"{_cn_num(u.group(1) or u.group(2))}单元"
        rest = rest[u.end():].lstrip(_SEPARATORS)
        rest = rest[_FILLER.match(rest).end():]  # type: ignore[union-attr]
    r = _ROOM.match(rest)
    room = f"{_cn_num(r.group(1))}室" if r else ""
    return unit, room


def parse_address(text: str) -> str | None:
    """Building/unit/room in the text, normalised: ``3栋2单元501室``, ``5栋1203室``, ``B座1801室``.

    Understands 3栋2单元501, 5号楼1203, 三号楼二单元五零二, B座1801, 12幢3单元, Building 6 unit 2 room 1203.
    When several buildings are named, the most complete address wins.
    """
    text = _PHONE.sub(" ", _digits_view(text))
    dashed = _DASHED.search(text)
    if dashed:  # 3-2-501: building, unit and room, as residents type them in a hurry
        return f"{int(dashed.group(1))}栋{int(dashed.group(2))}单元{int(dashed.group(3))}室"
    text = _BUILDING_SIGN.sub("栋", _ENGLISH_ROOM.sub(r"room \1", text))
    best: str | None = None
    for b in _BUILDING.finditer(text):
        token = b.group(1) or b.group(2)
        building = _cn_num(token)
        suffix = "座" if "座" in b.group(0) else "栋"
        unit, room = _unit_room(text[b.end():])
        candidate = f"{building}{suffix}{unit}{room}"
        if best is None or len(candidate) > len(best):
            best = candidate
    return best


def parse_name(text: str) -> str | None:
    """The resident's name or form of address (王先生, 李阿姨, 张伟, Kevin Zhang) if they gave one."""
    text = _PHONE.sub(lambda m: " " + m.group(0), text)
    full = _SURNAME_THEN_NAME.search(text)  # "姓周，周晓雯": the full name that repeats the surname
    if full and full.group(2) not in _NOT_NAMES:
        return full.group(2)
    for i, pattern in enumerate(_NAME_PATTERNS):
        for m in pattern.finditer(text):
            name = m.group(1).strip()
            if name in _NOT_NAMES or any(ch.isdigit() for ch in name):
                continue
            if i in (1, 2) and _NOT_IN_NAME.search(name[0] + name[1:].replace("家", "")):  # 何家豪 is a name
                continue
            if i == len(_NAME_PATTERNS) - 1:
                return f"{name}先生/女士"
            return name
    return None


def five_w1h(text: str, *, who: str | None, where: str | None) -> dict[str, str]:
    """Record a description by 5W1H (seed 1.3): what, where, when, who, why, how — what the text gives."""
    out = {"what": text.strip()[:200]}
    place = _WHERE.search(text)
    location = " ".join(x for x in (where, place.group(1) if place else None) if x)
    if location:
        out["where"] = location
    when = _WHEN.search(text)
    if when:
        out["when"] = when.group(0)[:30]
    if who:
        out["who"] = who
    return out


def _bare_name(text: str) -> str | None:
    """The answer to "请问怎么称呼您？": what is left once phone and address are taken out, if it looks like a name."""
    rest = _PHONE.sub(" ", text)
    for b in _BUILDING.finditer(rest):
        rest = rest.replace(b.group(0), " ")
    rest = _UNIT.sub(" ", rest)
    rest = _ROOM.sub(" ", rest)
    rest = re.sub(r"\b(?:rm|room|flat|apt|bldg|blk|block|building|unit|floor|tel|phone|mobile)\b\.?", " ", rest,
                  flags=re.I)
    rest = re.sub(r"\s*[,，]\s*", " ", rest).strip()
    rest = re.sub(r"^(我是|我叫|叫我|姓名|名字|业主)[:：]?", "", rest.strip(" ，,。.!！"))
    rest = rest.strip(" ，,。.!！的")
    if re.fullmatch(r"[\u4e00-\u9fff]{2,4}", rest) and rest not in _NOT_NAMES and not _NOT_IN_NAME.search(rest):
        return rest
    if re.fullmatch(r"[A-Za-z]+(?: [A-Za-z]+)?", rest) and len(rest) >= 2:
        return rest
    return None


def _merge_address(current: str | None, text: str) -> str | None:
    """Merge a new message into a partial address: a fuller address replaces it; a unit or room completes it."""
    new = parse_address(text)
    if current is None:
        return new
    if new and new != current and new.startswith(current.removesuffix("室")):
        return new
    if new is None:
        plain = _PHONE.sub(" ", text)
        unit, room = "", ""
        if "单元" not in current:
            u = _UNIT.search(plain)
            if u:
                unit = f"{_cn_num(u.group(1) or u.group(2))}单元"
                plain = plain[u.end():]
        if "室" not in current:
            r = _ROOM.search(plain)
            if r:
                room = f"{_cn_num(r.group(1))}室"
        if unit or room:
            m = re.match(r"^(.*?[栋座])(.*)$", current)
            head, tail = (m.group(1), m.group(2)) if m else (current, "")
            if unit:
                tail = unit + tail
            return f"{head}{tail}{room}"
    return current


class TicketStatus(StrEnum):
    """Lifecycle states of a ticket."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    DISPATCHED = "dispatched"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CALLBACK_DONE = "callback_done"
    CLOSED = "closed"
    REOPENED = "reopened"


TRANSITIONS: dict[TicketStatus, tuple[TicketStatus, ...]] = {
    TicketStatus.DRAFT: (TicketStatus.SUBMITTED,),
    TicketStatus.SUBMITTED: (TicketStatus.DISPATCHED,),
    TicketStatus.DISPATCHED: (TicketStatus.IN_PROGRESS,),
    TicketStatus.IN_PROGRESS: (TicketStatus.RESOLVED,),
    TicketStatus.RESOLVED: (TicketStatus.CALLBACK_DONE, TicketStatus.REOPENED),
    TicketStatus.CALLBACK_DONE: (TicketStatus.CLOSED, TicketStatus.REOPENED),
    TicketStatus.CLOSED: (TicketStatus.REOPENED,),
    TicketStatus.REOPENED: (TicketStatus.DISPATCHED,),
}


def check_transition(
    current: TicketStatus,
    target: TicketStatus,
    *,
    assignee: str | None = None,
    note: str | None = None,
    photos: int = 0,
    missing: tuple[str, ...] = (),
) -> None:
    """Raise unless ``current → target`` is allowed and its checks pass.

    Checks: submitting needs every mandatory field (seed 1.3 null check); dispatching needs an
    assignee; resolving needs a completion photo and a note (seed 2.1 closed-loop); a callback and a
    reopening need a note.

    Raises:
        TransitionError: The move is not in the lifecycle, or a check fails.
        MissingFieldError: Submitting with a mandatory field empty.
    """
    if target not in TRANSITIONS.get(current, ()):
        allowed = ", ".join(TRANSITIONS.get(current, ())) or "none"
        raise TransitionError(f"cannot move a ticket from {current} to {target}; allowed next: {allowed}")
    if target is TicketStatus.SUBMITTED and missing:
        raise MissingFieldError(missing)
    if target is TicketStatus.DISPATCHED and not assignee:
        raise TransitionError("dispatching needs an assignee (the on-site staff nearest to the address)")
    if target is TicketStatus.RESOLVED and (photos < 1 or not (note or "").strip()):
        raise TransitionError("resolving needs at least one completion photo and a note of what was done")
    if target in (TicketStatus.CALLBACK_DONE, TicketStatus.REOPENED) and not (note or "").strip():
        raise TransitionError(f"moving to {target} needs a note")


@dataclass(frozen=True, slots=True)
class TicketDraft:
    """A ticket being put together from the conversation; fields fill in turn by turn."""

    resident_name: str | None = None
    phone: str | None = None
    address: str | None = None
    description: str | None = None
    details: dict[str, str] = field(default_factory=dict)

    def merge_text(self, text: str, *, is_problem: bool, expecting: str | None = None) -> TicketDraft:
        """Fill empty fields from a new message; a problem message extends the description.

        A more complete address replaces a partial one (``3栋2单元`` then ``3栋2单元502``), and a bare
        room number completes an address that lacks one.
        """
        name = self.resident_name or parse_name(text)
        if name is None and expecting == "resident_name":
            name = _bare_name(text)
        phone = self.phone or parse_phone(text)
        address = _merge_address(self.address, text)
        description = self.description
        details = self.details
        if is_problem:
            cleaned = _PHONE.sub("", text).strip(" ，,。")
            description = f"{description}；{cleaned}" if description else cleaned
            details = five_w1h(description, who=name, where=address)
        return replace(self, resident_name=name, phone=phone, address=address, description=description,
                       details=details)

    def missing(self, fields: list[TicketField]) -> tuple[str, ...]:
        """Names of the mandatory fields still empty, in the order the rules list them."""
        # the household needs its room: "3栋2单元" alone is asked again until the room is given
        address = self.address if self.address and ("室" in self.address) else None
        values = {"resident_name": self.resident_name, "phone": self.phone, "address": address,
                  "description": self.description}
        return tuple(f.name for f in fields if f.required and f.name in values and not (values[f.name] or "").strip())
