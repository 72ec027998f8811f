from pathlib import Path

import pytest

from ingest.errors import LoaderError
from ingest.loaders import find_documents, load_document


def _write_docx(path: Path) -> None:
    from docx import Document

    doc = Document()
    doc.core_properties.title = "电梯维保管理办法"
    doc.add_heading("电梯维保管理办法", level=1)
    doc.add_heading("一、维保周期", level=2)
    doc.add_paragraph("电梯每十五天保养一次。保养时张贴告示。")
    doc.add_heading("二、困人救援", level=2)
    doc.add_paragraph("接到困人报警后，维保单位三十分钟内到场。")
    doc.save(str(path))


def _write_pdf(path: Path) -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    c = canvas.Canvas(str(path))
    c.setTitle("装修管理规定")
    c.setFont("STSong-Light", 12)
    c.drawString(72, 750, "装修施工时间为工作日八点至十二点。")
    c.drawString(72, 730, "周末禁止噪音施工。")
    c.save()


@pytest.mark.parametrize(
    ("name", "writer", "title", "expect_path", "expect_text"),
    [
        pytest.param("停车.md", lambda p: p.write_text(
            "# 停车管理\n\n## 临时停车\n\n访客车辆首小时免费。超过按次收费。\n\n## 月租\n\n月租车位需签协议。\n",
            encoding="utf-8"), "停车管理", ("停车管理", "临时停车"), "访客车辆首小时免费", id="markdown"),
        pytest.param("快递.txt", lambda p: p.write_text(
            "快递柜在每栋楼大堂。\n\n超时存放收取保管费。", encoding="utf-8"), "快递", ("快递",),
            "快递柜在每栋楼大堂", id="txt-utf8"),
        pytest.param("旧通知.txt", lambda p: p.write_bytes("停水通知：明日九点停水。".encode("gb18030")),
                     "旧通知", ("旧通知",), "明日九点停水", id="txt-gb18030"),
        pytest.param("绿化.html", lambda p: p.write_text(
            "<html><head><title>绿化养护</title><script>var x=1;</script></head><body><h2>修剪</h2>"
            "<p>草坪每月修剪两次。</p><ul><li>打药前一天通知。</li></ul></body></html>", encoding="utf-8"),
            "绿化养护", ("绿化养护", "修剪"), "草坪每月修剪两次", id="html"),
        pytest.param("电梯.docx", _write_docx, "电梯维保管理办法", ("电梯维保管理办法", "二、困人救援"),
                     "三十分钟内到场", id="docx"),
        pytest.param("装修.pdf", _write_pdf, "装修管理规定", ("装修管理规定", "第1页"), "周末禁止噪音施工",
                     id="pdf"),
    ],
)
def test_loader_reads_title_sections_and_text(tmp_path: Path, name, writer, title, expect_path, expect_text) -> None:
    path = tmp_path / name
    writer(path)
    doc = load_document(path)
    assert doc.title == title
    matching = [s for s in doc.sections if expect_text in s.text]
    assert matching, doc.sections
    assert matching[0].heading_path == expect_path
    assert "var x" not in " ".join(s.text for s in doc.sections)


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        pytest.param("坏.pdf", b"%PDF-1.4 this is not really a pdf", "not a readable PDF", id="corrupted-pdf"),
        pytest.param("坏.docx", b"PK\x03\x04 broken zip", "not a readable DOCX", id="corrupted-docx"),
        pytest.param("表.xlsx", b"whatever", "unsupported file type", id="unsupported"),
        pytest.param("空.txt", b"   \n\n  ", "no text found", id="empty"),
        pytest.param("乱码.txt", b"\xff\xfe\xfa\xfb\x80\x81" * 3, "neither UTF-8 nor GB18030", id="binary-text"),
    ],
)
def test_bad_document_raises_loader_error_naming_file(tmp_path: Path, name: str, content: bytes, reason: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(LoaderError, match=reason) as info:
        load_document(path)
    assert info.value.path == path
    assert name in str(info.value)


def test_find_documents_skips_hidden_and_unsupported(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("# a\n\nx", encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.pdf").write_bytes(b"")
    (tmp_path / ".hidden.md").write_text("x", encoding="utf-8")
    (tmp_path / "c.xlsx").write_bytes(b"")
    assert [p.name for p in find_documents(tmp_path)] == ["a.md", "b.pdf"]
