"""The backend gate in `make test`: int8 ONNX may be the default only while it is within one point of torch fp32 on dev.

Both backends run the whole product on the dev split (eval/backends.py): retrieval R@1/R@3, triage category,
urgency and level-1 recall. The default backend's service is the session's ``service`` (index var/test-index);
the other one gets its own index, var/test-index-<backend>, updated incrementally like the first.
"""

from pathlib import Path

import pytest

from assistant.settings import AssistantSettings
from eval.backends import FIGURES, score, service_for, shortfalls, table
from ingest.settings import Backend, IngestSettings

pytestmark = [pytest.mark.integration, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
DEFAULT = IngestSettings().backend


@pytest.fixture(scope="module")
def other_service(model_dir: Path, kb_root: Path):  # type: ignore[no-untyped-def]
    """The product's service on the backend that is not the default."""
    other = Backend.TORCH if DEFAULT is Backend.ONNX_INT8 else Backend.ONNX_INT8
    ingest = IngestSettings(kb_root=kb_root, index_dir=REPO / "var" / f"test-index-{other.value}",
                            embedding_model=str(model_dir), backend=other, progress=False, upload_dir=None)
    return service_for(ingest, AssistantSettings())


def test_int8_as_the_default_is_within_one_point_of_fp32(service, other_service) -> None:  # type: ignore[no-untyped-def]
    if DEFAULT is not Backend.ONNX_INT8:
        pytest.skip("the default backend is torch: the gate guards int8 only")
    assert service.retriever.embedder.model_id.endswith("+onnx-int8")
    fp32, int8 = score(other_service, Backend.TORCH.value), score(service, Backend.ONNX_INT8.value)
    print(table([fp32, int8]))
    assert set(fp32.figures) == set(int8.figures) == set(FIGURES)
    short = shortfalls(fp32, int8)
    assert not short, "int8 is the default but falls more than one point short: " + "; ".join(short)
