"""Headless Chromium (Debian's, driven by Playwright) on the running server: what residents, agents and
managers see. Set SCREENSHOTS_DIR=docs/screenshots to refresh the README's screenshots."""

import os
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser():  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "Debian's chromium is missing: `make test` installs it (apt-get install chromium)"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def _opener(browser, base: str, contexts: list):  # type: ignore[no-untyped-def]
    def open_as(username: str, path: str, *, mobile: bool = False):  # type: ignore[no-untyped-def]
        viewport = {"width": 390, "height": 844} if mobile else {"width": 1280, "height": 900}
        ctx = browser.new_context(viewport=viewport, locale="zh-CN", bypass_csp=True)  # lets wait_for_function evaluate
        contexts.append(ctx)
        page = ctx.new_page()
        page.goto(f"{base}/login?next={path}")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", "wuye-demo")
        page.click("button[type=submit]")
        page.wait_for_url(f"**{path}")
        return page

    return open_as


@pytest.fixture
def page_for(browser, live_server, tmp_path):  # type: ignore[no-untyped-def]
    contexts: list = []
    yield _opener(browser, live_server, contexts)
    for ctx in contexts:
        ctx.close()


@pytest.fixture
def own_kb_page_for(browser, tmp_path, real_index_dir, model_dir):  # type: ignore[no-untyped-def]
    """page_for on a server of its own whose KB and index are copies (an approved correction changes both)."""
    import shutil

    from tests.server import ServerProcess

    repo = Path(__file__).resolve().parents[2]
    shutil.copytree(repo / "kb", tmp_path / "kb", ignore=shutil.ignore_patterns("curated.yaml", "*.lock"))
    live = (real_index_dir / "current").resolve()
    shutil.copytree(live, tmp_path / "index" / "versions" / live.name)
    (tmp_path / "index" / "current").symlink_to(Path("versions") / live.name)
    server = ServerProcess({"WUYE_INGEST__KB_ROOT": str(tmp_path / "kb"), "WUYE_INGEST__INDEX_DIR": str(tmp_path / "index"),
                            "WUYE_INGEST__EMBEDDING_MODEL": str(model_dir),
                            "WUYE_INGEST__UPLOAD_DIR": str(tmp_path / "uploads"),
                            "WUYE_ASSISTANT__DATABASE_URL": f"sqlite:///{tmp_path / 'own.db'}",
                            "WUYE_API__SLA_MONITOR": "false"}, log=tmp_path / "server.log")
    server.start()
    contexts: list = []
    try:
        yield _opener(browser, server.base, contexts)
    finally:
        for ctx in contexts:
            ctx.close()
        server.stop()


def _shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    target = os.environ.get("SCREENSHOTS_DIR")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(target) / f"{name}.png"), full_page=True)


def test_resident_reports_burst_pipe_sees_banner_and_ticket(page_for) -> None:
    page = page_for("resident", "/chat", mobile=True)
    page.fill("#chat-input", "厨房水管爆了，水一直往外喷！")
    page.click("#chat-form button[type=submit]")
    page.wait_for_selector("#emergency-banner:not(.hidden)", timeout=20000)
    page.wait_for_selector("#ticket-card:not(.hidden)")
    page.wait_for_function("document.querySelector('#ticket-fields').textContent.includes('GD')")
    card = page.text_content("#ticket-fields")
    assert "1级" in card and "工程部" in card
    assert "总阀" in page.text_content("#messages")
    _shot(page, "resident-chat-emergency")


def test_resident_fee_question_shows_answer_with_citation(page_for) -> None:
    page = page_for("resident", "/chat", mobile=True)
    page.fill("#chat-input", "晚交物业费的滞纳金怎么算")
    page.click("#chat-form button[type=submit]")
    link = page.wait_for_selector(".cites a[data-ref='FAQ-RES-018']", timeout=20000)
    assert "来源" in page.text_content("#messages") and "FAQ-" not in page.text_content("#messages")
    link.click()
    page.wait_for_selector("#entry-dialog[open]")
    assert "滞纳金" in page.text_content("#entry-body")
    _shot(page, "resident-chat-answer")


def test_agent_sees_the_emergency_first_with_a_countdown(page_for) -> None:
    resident = page_for("resident", "/chat")
    resident.fill("#chat-input", "卧室灯坏了")
    resident.click("#chat-form button[type=submit]")
    resident.wait_for_selector("#ticket-card:not(.hidden)", timeout=20000)
    resident.fill("#chat-input", "楼道里有股很浓的煤气味")
    resident.click("#chat-form button[type=submit]")
    resident.wait_for_selector("#emergency-banner:not(.hidden)", timeout=20000)
    page = page_for("agent", "/agent")
    page.wait_for_selector("#queue tbody tr")
    first = page.query_selector("#queue tbody tr")
    assert "1级" in first.text_content()
    before = page.text_content("#queue tbody tr .countdown")
    page.wait_for_function(f"document.querySelector('#queue tbody tr .countdown').textContent !== {before!r}",
                           timeout=10000)  # the countdown ticks
    assert "分" in page.text_content("#queue tbody tr .countdown")
    first.click()
    page.wait_for_selector("#suggestions .sugg")
    page.click("#suggestions .sugg button")
    page.click("#lint-btn")
    page.wait_for_selector("#lint-result .ok")
    _shot(page, "agent-console")


@pytest.mark.parametrize(("message", "expected"), [
    pytest.param("厨房水龙头一直在漏水，拧不紧", "工程部", id="repair"),
    pytest.param("投诉一下，你们东门那个保安态度太差了，冲我吼还骂人", "工作人员给您带来的不愉快", id="service-complaint"),
    pytest.param("楼道里有股很浓的煤气味", "燃气表前阀门", id="level-1"),
])
def test_the_console_offers_three_different_complete_replies_and_adopts_one(page_for, message: str,
                                                                           expected: str) -> None:
    """Issue 18: for a repair, a service complaint and a level-1 case the agent sees three replies in three
    styles, each complete Chinese (no empty slot, no raw markup) and different; 采用 puts one in the reply box."""
    resident = page_for("resident", "/chat")
    resident.fill("#chat-input", message)
    resident.click("#chat-form button[type=submit]")
    resident.wait_for_function("document.querySelector('#ticket-fields').textContent.includes('GD')", timeout=20000)
    number = resident.text_content("#ticket-fields dd").strip()  # the first field is the ticket number
    page = page_for("agent", "/agent")
    page.wait_for_selector(f"#queue tbody tr[data-number='{number}']", timeout=20000)
    page.click(f"#queue tbody tr[data-number='{number}']")
    page.wait_for_function("document.querySelectorAll('#suggestions .sugg').length === 3", timeout=20000)
    cards = page.query_selector_all("#suggestions .sugg")
    assert [c.get_attribute("data-style") for c in cards] == ["short", "warm", "full"]
    assert [c.query_selector(".style").text_content() for c in cards] == ["简短直接", "体贴安抚", "完整步骤"]
    texts = [c.query_selector(".text").text_content() for c in cards]
    assert len(set(texts)) == 3
    for text in texts:
        assert len(text) >= 40 and "{" not in text and "<" not in text and "我是。" not in text and "，，" not in text
        assert number in text or "工单" in text
    assert any(expected in t for t in texts)
    assert max(len(t) for t in texts) > 2 * min(len(t) for t in texts)  # a short option and a full one
    cards[1].query_selector("button").click()
    assert page.input_value("#reply-draft") == texts[1]
    page.click("#lint-btn")
    page.wait_for_selector("#lint-result .ok")


def test_manager_dashboard_charts_render(page_for) -> None:
    page = page_for("manager", "/manager")
    page.wait_for_function("document.querySelectorAll('.kpi').length === 8")
    page.wait_for_function("Object.values(Chart.instances).length === 4", timeout=10000)
    sizes = page.evaluate("Object.values(Chart.instances).map(c => c.width * c.height)")
    assert all(s > 0 for s in sizes)
    _shot(page, "manager-dashboard")


def test_trainer_and_admin_pages(page_for) -> None:
    page = page_for("trainer", "/trainer")
    page.fill("#reply-draft", "这个我不清楚，你找别人吧")
    page.click("#lint-btn")
    page.wait_for_selector("#lint-result .finding")
    assert "不清楚" in page.text_content("#lint-result")
    _shot(page, "trainer")
    admin = page_for("admin", "/admin")
    admin.fill("input[name=q]", "装修押金")
    admin.click("#kb-search button")
    admin.wait_for_selector("#kb-hits li a")
    admin.click("#kb-hits li a")
    admin.wait_for_function("document.querySelector('#kb-entry').textContent.length > 10")
    _shot(admin, "kb-admin")


def test_html_in_a_message_is_shown_as_text(page_for) -> None:
    page = page_for("resident", "/chat")
    page.fill("#chat-input", "<img src=x onerror=alert(1)><script>alert(2)</script>物业费怎么交")
    page.click("#chat-form button[type=submit]")
    page.wait_for_selector(".msg.me")
    assert page.query_selector("#messages img") is None
    assert "<script>" in page.text_content(".msg.me")


def test_quiz_in_the_browser(page_for) -> None:
    trainer = page_for("trainer", "/trainer")
    trainer.fill("#quiz-form input[name=count]", "1")
    trainer.click("#quiz-form button[type=submit]")
    trainer.wait_for_function("document.querySelector('#quiz-created').textContent.includes('已创建考核')")
    agent = page_for("agent", "/agent")
    agent.wait_for_selector("#my-quizzes a")
    agent.click("#my-quizzes a")
    form = agent.wait_for_selector(".quiz-item")
    form.query_selector("input[name=time_limit_minutes]").fill("30")
    form.query_selector("textarea[name=reply]").fill("您好，非常理解您的着急，我们马上安排人员处理，30分钟内到场。")
    form.query_selector("button[type=submit]").click()
    agent.wait_for_selector(".quiz-item .grade p")
    assert "得分" in agent.text_content(".quiz-item .grade")
    _shot(agent, "agent-quiz")
    trainer.reload()
    trainer.wait_for_selector("#results tbody tr")
    assert "agent" in trainer.text_content("#results")
    _shot(trainer, "trainer")


def test_resident_asks_for_a_person_and_an_agent_joins_from_the_console(page_for) -> None:
    resident = page_for("resident", "/chat", mobile=True)
    resident.click("#handoff")
    resident.wait_for_selector("#agent-banner:not(.hidden)", timeout=20000)
    agent = page_for("agent", "/agent")
    agent.wait_for_selector("#handoffs li", timeout=10000)
    agent.locator("#handoffs li", has_text="转人工").last.click()
    agent.click("#join-btn")
    agent.wait_for_function("document.querySelector('#conv-title').textContent.includes('人工处理中')")
    agent.fill("#conv-input", "您好，我是客服小王，请问有什么可以帮您？")
    agent.click("#conv-form button[type=submit]")
    resident.wait_for_selector(".msg.agent", timeout=10000)
    assert "客服小王" in resident.text_content("#messages")
    assert "人工客服已接入" in resident.text_content("#agent-banner")
    resident.fill("#chat-input", "楼下停车场的灯坏了好几盏")
    resident.click("#chat-form button[type=submit]")
    agent.wait_for_function("document.querySelector('#transcript').textContent.includes('停车场的灯')",
                            timeout=10000)
    _shot(agent, "agent-live-handoff")
    agent.click("#release-btn")
    resident.wait_for_function("document.querySelector('#agent-banner').classList.contains('hidden')",
                               timeout=10000)


def test_resident_photo_reaches_the_agents_ticket_view(page_for, tmp_path) -> None:
    import io

    from PIL import Image

    photo = tmp_path / "leak.jpg"
    buf = io.BytesIO()
    Image.new("RGB", (480, 360), (30, 90, 200)).save(buf, "JPEG")
    photo.write_bytes(buf.getvalue())
    resident = page_for("resident", "/chat", mobile=True)
    resident.fill("#chat-input", "厨房水龙头一直滴水，7栋1单元702，赵敏13955556666")
    resident.click("#chat-form button[type=submit]")
    resident.wait_for_selector("#photo-label:not(.hidden)", timeout=20000)
    number = resident.get_attribute("#photo-input", "data-ticket")
    resident.set_input_files("#photo-input", str(photo))
    resident.wait_for_selector("#messages img.thumb", timeout=10000)
    agent = page_for("agent", "/agent")
    agent.wait_for_selector(f"#queue tr[data-number='{number}']", timeout=10000)
    agent.click(f"#queue tr[data-number='{number}']")
    agent.wait_for_selector("#detail-body img.thumb", timeout=10000)
    assert agent.evaluate("document.querySelector('#detail-body img.thumb').naturalWidth") > 0
    _shot(agent, "agent-ticket-photo")


def test_resident_asks_for_the_status_and_the_reply_names_the_ticket(page_for) -> None:
    resident = page_for("resident", "/chat", mobile=True)
    resident.fill("#chat-input", "5栋楼道的灯坏了两盏，晚上黑乎乎的，5栋2单元301，李娜13811112222")
    resident.click("#chat-form button[type=submit]")
    resident.wait_for_selector("#photo-label:not(.hidden)", timeout=20000)
    number = resident.get_attribute("#photo-input", "data-ticket")
    assert number
    resident.fill("#chat-input", "我刚才报的那个工单现在到哪一步了")
    resident.click("#chat-form button[type=submit]")
    resident.wait_for_function(
        f"[...document.querySelectorAll('#messages .msg')].slice(-1)[0].textContent.includes('{number}')",
        timeout=20000)
    last = resident.locator("#messages .msg").last.text_content() or ""
    assert "待" in last or "处理" in last or "派" in last, last


def test_level1_report_pages_the_engineer_on_duty_and_the_agent_acknowledges_from_the_console(page_for) -> None:
    resident = page_for("resident", "/chat", mobile=True)
    resident.fill("#chat-input", "楼道里燃气味特别大，呛得人头晕，6栋1单元302，周敏13877776666")
    resident.click("#chat-form button[type=submit]")
    resident.wait_for_selector("#photo-label:not(.hidden)", timeout=20000)
    number = resident.get_attribute("#photo-input", "data-ticket")
    agent = page_for("agent", "/agent")
    item = f"#pages li[data-number='{number}']"
    agent.wait_for_selector(item, timeout=30000)  # the monitor pages at once when a level-1 ticket is filed
    assert agent.is_visible("#pages-alarm")
    _shot(agent, "agent-page-alarm")
    agent.click(f"{item} .ack-btn")
    agent.wait_for_selector(item, state="detached", timeout=10000)
    agent.wait_for_selector(f"#queue tr[data-number='{number}']", timeout=35000)
    agent.click(f"#queue tr[data-number='{number}']")
    agent.wait_for_function("document.querySelector('#events').textContent.includes('已确认呼叫')", timeout=10000)
    assert "呼叫" in (agent.text_content("#events") or "")


def _report_and_open(page_for, text: str):  # type: ignore[no-untyped-def]
    """A resident files a complete report; the agent opens its ticket in the console. → (resident, agent, number)"""
    resident = page_for("resident", "/chat", mobile=True)
    resident.fill("#chat-input", text)
    resident.click("#chat-form button[type=submit]")
    resident.wait_for_selector("#photo-label:not(.hidden)", timeout=20000)
    number = resident.get_attribute("#photo-input", "data-ticket")
    agent = page_for("agent", "/agent")
    row = f"#queue tr[data-number='{number}']"
    agent.wait_for_selector(row, timeout=35000)
    agent.click(row)
    return resident, agent, number


def _move(agent, to: str, *, assignee: str = "", note: str = "", photo: str = "") -> None:  # type: ignore[no-untyped-def]
    """Move the open ticket with the console's form and wait for its audit trail to show the move."""
    form = "#transition-form"
    agent.select_option(f"{form} select[name=to]", to)
    agent.fill(f"{form} input[name=assignee]", assignee)
    agent.fill(f"{form} input[name=note]", note)
    agent.fill(f"{form} input[name=photos]", photo)
    before = agent.locator("#events li").count()
    agent.click(f"{form} button[type=submit]")
    agent.wait_for_function(f"document.querySelectorAll('#events li').length > {before}", timeout=10000)


def test_the_residents_chat_shows_the_dispatch_and_the_resolution(page_for) -> None:
    resident, agent, _ = _report_and_open(page_for, "阳台的晾衣杆掉下来了，装不回去，9栋3单元1202，刘洋13722223333")
    for to, extra, heard in (("dispatched", {"assignee": "孙师傅"}, "孙师傅"), ("in_progress", {}, "已到场"),
                             ("resolved", {"note": "重新固定了晾衣杆支架", "photo": "after.jpg"}, "重新固定了晾衣杆支架")):
        _move(agent, to, **extra)
        resident.wait_for_function(
            f"[...document.querySelectorAll('.msg.update')].some((m) => m.textContent.includes('{heard}'))",
            timeout=10000)
    _shot(resident, "resident-chat-updates")


def test_an_agent_completes_a_callback_and_the_dashboard_counts_it(page_for) -> None:
    _, agent, number = _report_and_open(page_for, "门口的感应灯不亮了，4栋1单元201，钱进13633334444")
    _move(agent, "dispatched", assignee="张师傅")
    _move(agent, "in_progress")
    _move(agent, "resolved", note="更换感应器", photo="after.jpg")
    agent.reload()
    task = f"#callbacks li[data-number='{number}']"
    agent.wait_for_selector(task, timeout=20000)
    assert "钱进" in (agent.text_content(task) or "")
    agent.select_option(f"{task} select", "4")
    agent.click(f"{task} .cb-ok")
    agent.wait_for_selector(task, state="detached", timeout=10000)
    manager = page_for("manager", "/manager")
    manager.wait_for_selector("#kpis .kpi", timeout=20000)
    manager.wait_for_function("document.querySelector('#kpis').textContent.includes('回访')", timeout=10000)
    assert "满意/未解决/未接通" in (manager.text_content("#kpis") or "")


def test_an_admin_edits_the_on_call_roster_and_a_bad_phone_is_marked(page_for) -> None:
    admin = page_for("admin", "/admin")
    row = "#roster-departments fieldset[data-dept='工程部'] tbody tr:first-child"
    admin.wait_for_selector(row, timeout=20000)
    admin.fill(f"{row} input[name=name]", "周工（白班）")
    admin.fill(f"{row} input[name=phone]", "1391111222")  # ten digits
    admin.fill(f"{row} input[name=hours]", "07:30-19:30")
    admin.click("#roster-save")
    admin.wait_for_selector(f"{row} input[name=phone].invalid", timeout=10000)
    assert "roster.departments.工程部.0.phone" in (admin.text_content("#roster-error") or "")
    admin.fill(f"{row} input[name=phone]", "13911112222")
    admin.click("#roster-save")
    admin.wait_for_function("document.querySelector('#roster-status').textContent.includes('已保存')", timeout=10000)
    assert not admin.text_content("#roster-error")
    _shot(admin, "admin-oncall-roster")
    admin.reload()
    admin.wait_for_selector(row, timeout=20000)
    assert admin.input_value(f"{row} input[name=name]") == "周工（白班）"
    assert admin.input_value(f"{row} input[name=phone]") == "13911112222"
    assert admin.input_value(f"{row} input[name=hours]") == "07:30-19:30"
    assert "系统管理员" in (admin.text_content("#roster-meta") or "")


def test_a_resident_rates_in_the_chat_and_the_dashboard_shows_it(page_for) -> None:
    resident, agent, number = _report_and_open(page_for, "书房的插座没电了，8栋2单元602，孙丽13544445555")
    _move(agent, "dispatched", assignee="王师傅")
    _move(agent, "in_progress")
    _move(agent, "resolved", note="更换了插座面板", photo="after.jpg")
    resident.wait_for_function(
        "[...document.querySelectorAll('.msg.update')].some((m) => m.textContent.includes('1到5分'))", timeout=10000)
    resident.fill("#chat-input", "5分，谢谢师傅")
    resident.click("#chat-form button[type=submit]")
    resident.wait_for_function(
        f"[...document.querySelectorAll('#messages .msg.bot')].some((m) => m.textContent.includes('感谢您的评价')"
        f" && m.textContent.includes('{number}'))", timeout=20000)
    _shot(resident, "resident-chat-rating")
    manager = page_for("manager", "/manager")
    manager.wait_for_selector("#kpis .kpi", timeout=20000)
    manager.wait_for_function("document.querySelector('#kpis').textContent.includes('业主在线评价')", timeout=20000)
    kpi = manager.locator("#kpis .kpi", has_text="业主在线评价").text_content() or ""
    assert "条" in kpi and "0 条" not in kpi and "分" in kpi
def _ask(page, text: str) -> None:  # type: ignore[no-untyped-def]
    """Send a chat message and wait for the assistant's reply to it."""
    before = page.locator("#messages .msg.bot").count()
    page.fill("#chat-input", text)
    page.click("#chat-form button[type=submit]")
    page.wait_for_function(f"document.querySelectorAll('#messages .msg.bot').length > {before} && "
                           "!document.querySelector('#messages .msg.bot:last-child')?.textContent.startsWith('…')",
                           timeout=30000)


def test_a_downvote_with_a_reason_appears_in_the_gap_report(page_for) -> None:
    resident = page_for("resident", "/chat", mobile=True)
    _ask(resident, "晚交物业费的滞纳金怎么算")
    answer = resident.locator("#messages .msg.bot").last
    answer.locator(".vote-down").click()
    answer.locator(".vote-reason").fill("没说清楚封顶多少钱")
    answer.locator(".vote-send").click()
    resident.wait_for_selector(".vote-done", timeout=10000)
    _shot(resident, "resident-chat-vote")
    admin = page_for("admin", "/admin")
    admin.wait_for_selector("#votes tbody tr", timeout=10000)
    assert "没说清楚封顶多少钱" in (admin.text_content("#votes") or "")
    admin.click("#gaps-btn")
    gap = admin.locator("#gaps li.gap", has_text="没说清楚封顶多少钱")
    gap.wait_for(timeout=60000)
    text = gap.text_content() or ""
    assert "晚交物业费的滞纳金怎么算" in text and "踩" in text and "answer: ''" in text
    _shot(admin, "kb-admin-gaps")


def test_an_agents_correction_approved_by_an_admin_answers_the_next_identical_question(own_kb_page_for) -> None:
    question, answer = "小区游泳池夏天几点开门", "小区游泳池夏季每天9:00-21:00开放，每周一上午清洁消毒暂停开放。"
    resident = own_kb_page_for("resident", "/chat", mobile=True)
    _ask(resident, question)
    assert resident.locator("#messages .msg.bot").last.locator(".votes").count() == 0  # handed off, not answered
    agent = own_kb_page_for("agent", "/agent")
    agent.locator("#handoffs li", has_text=question).last.click()
    agent.locator("#transcript .fix-btn").last.click()
    agent.fill("#fix-answer", answer)
    agent.click("#fix-send")
    agent.wait_for_function("document.querySelector('#fix-status').textContent.includes('已提交')", timeout=10000)
    admin = own_kb_page_for("admin", "/admin")
    item = admin.locator("#corrections li.correction", has_text=question)
    item.wait_for(timeout=15000)
    item.locator(".approve-btn").click()
    admin.wait_for_function("document.querySelector('#corrections-status').textContent.includes('FAQ-CUR-001')",
                            timeout=30000)
    admin.wait_for_function("document.querySelector('#ingest-status').textContent.startsWith('done')", timeout=300000)
    _shot(admin, "kb-admin-correction")
    other = own_kb_page_for("resident2", "/chat", mobile=True)
    _ask(other, question)
    last = other.locator("#messages .msg.bot").last
    assert answer in (last.text_content() or "")
    assert last.locator(".cites a").count() >= 1


def test_the_hit_test_page_explains_a_not_found(page_for) -> None:
    admin = page_for("admin", "/hittest")
    admin.fill("#hit-q", "小区里有没有自习室")
    admin.click("#hit-form button[type=submit]")
    admin.wait_for_selector("#hit-decision .decision.not_found", timeout=30000)
    assert "below the floor" in (admin.text_content("#hit-decision .why") or "")
    rows = admin.locator("#hit-table tbody tr")
    assert rows.count() >= 3
    first = rows.first
    assert float(first.locator(".dense").text_content() or 0) > 0.5
    assert float(first.locator(".fused").text_content() or 0) > 0
    _shot(admin, "kb-hittest")
