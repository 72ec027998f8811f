"""The command line by area: an unchanged KB builds nothing, the JSON is the API's shape, the ops commands."""

import json
from pathlib import Path

import pytest

from api.schemas import CitationOut
from api.schemas_knowledge import AskOut, SearchHitOut, TriageOut
from api.settings import get_settings

pytestmark = pytest.mark.integration


def test_ingest_on_an_unchanged_kb_publishes_nothing_and_force_rebuilds(cli, monkeypatch, tmp_path: Path,
                                                                        real_index_dir) -> None:
    import shutil

    shutil.copytree(real_index_dir, tmp_path / "index", symlinks=True)
    monkeypatch.setenv("WUYE_INGEST__INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.setenv("WUYE_INGEST__UPLOAD_DIR", str(tmp_path / "no-uploads"))
    get_settings.cache_clear()
    assert cli("ingest").exit_code == 0  # the session's index may predate this KB's last edit: at most one build
    live = (tmp_path / "index" / "current").resolve().name
    versions = sorted(p.name for p in (tmp_path / "index" / "versions").iterdir())
    again = cli("ingest")
    assert again.exit_code == 0, again.output
    assert again.output.strip() == f"index up to date (version {live})"
    assert sorted(p.name for p in (tmp_path / "index" / "versions").iterdir()) == versions
    forced = cli("ingest", "--force")
    assert forced.exit_code == 0 and "embedded 0, reused" in forced.output, forced.output
    rebuilt = (tmp_path / "index" / "current").resolve().name
    assert rebuilt != live and forced.output.startswith(f"index {rebuilt}:")
    assert cli("ingest").output.strip() == f"index up to date (version {rebuilt})"


def test_the_cli_prints_the_apis_shapes(cli) -> None:
    search = json.loads(cli("search", "装修押金多少", "--json").stdout)
    assert search["hits"] and all(set(h) == set(SearchHitOut.model_fields) for h in search["hits"])
    assert all(len(h["snippet"]) <= 200 for h in search["hits"])
    ask = json.loads(cli("ask", "装修押金什么时候退？", "--json").stdout)
    assert set(ask) == set(AskOut.model_fields) and ask["citations"]
    assert all(set(c) == set(CitationOut.model_fields) for c in ask["citations"])
    triage = json.loads(cli("triage", "厨房水管爆了").stdout)
    assert set(triage) == set(TriageOut.model_fields) and triage["urgency"] == 1


@pytest.mark.parametrize(("args", "names"), [
    pytest.param(["bench-gaps", "--skip", "timing,warp"], "warp", id="bench-gaps-unknown-section"),
    pytest.param(["eval", "--split", "train"], "dev or test", id="eval-unknown-split"),
    pytest.param(["quiz", "take", "--agent", "agent", "--difficulty", "extreme"], "extreme", id="quiz-difficulty"),
    pytest.param(["lint-reply", "您好", "--situation", "party"], "party", id="lint-reply-situation"),
])
def test_unknown_choices_are_refused_by_name(cli, args: list[str], names: str) -> None:
    result = cli(*args)
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert names in result.output, result.output
