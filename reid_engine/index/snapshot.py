"""Atomic, checksummed snapshots of a vector index: one self-describing file per snapshot.

FAISS loads a bit-flipped file without complaint and a writer killed mid-save leaves a broken file,
so a snapshot is written to a temporary file, fsynced and renamed into place. The file is a magic
number, a JSON header (format, dimension, count, kind, the highest id, the index settings, the size
of each FAISS blob and the sha256 of them all) and the blobs: the searchable index, and for IVF-PQ
the float16 copy it re-scores with. A mismatch raises ``IndexCorruptError`` and the caller rebuilds
from its database. Format 1 files (one exact index) still load.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import faiss

from reid_engine.config import config_from_dict
from reid_engine.errors import ConfigError, IndexCorruptError
from reid_engine.index.config import BuiltKind, IndexConfig
from reid_engine.index.structures import Structure
from reid_engine.index.vector_index import VectorIndex

SNAPSHOT_FORMAT = 2

_MAGIC = b"LVINDEX1"
_BLOCK = 1 << 24
_KINDS: tuple[BuiltKind, ...] = ("flat", "hnsw", "ivf_flat", "ivf_pq")


def save_snapshot(index: VectorIndex, path: str | os.PathLike[str]) -> None:
    """Write ``index`` to ``path`` atomically: the previous snapshot stays whole until the rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    structure = index._structure
    parts = [structure.index] + ([structure.raw] if structure.raw is not None else [])
    # The header (which holds the sizes and checksum) precedes the blobs, and a million vectors
    # are gigabytes: serialise once to measure and hash, once more to write, never holding a copy.
    digest = hashlib.sha256()
    sizes = [_stream(part, digest.update) for part in parts]
    header = json.dumps(
        {
            "format": SNAPSHOT_FORMAT,
            "dim": index.dim,
            "count": len(index),
            "kind": structure.kind,
            "trained_size": structure.trained_size,
            "last_id": index.last_id,
            "config": dataclasses.asdict(index.config),
            "parts": sizes,
            "sha256": digest.hexdigest(),
        },
        sort_keys=True,
    ).encode()
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            # Header and blobs in one file, so a single rename publishes them all: a reader never
            # pairs a new index with an old manifest.
            fh.write(_MAGIC + len(header).to_bytes(4, "little") + header)
            written = hashlib.sha256()

            def sink(block: bytes) -> None:
                fh.write(block)
                written.update(block)

            for part, size in zip(parts, sizes, strict=True):
                if _stream(part, sink) != size:
                    raise RuntimeError("the index changed while its snapshot was written")
            if written.digest() != digest.digest():
                raise RuntimeError("the index changed while its snapshot was written")
            fh.flush()
            os.fsync(fh.fileno())
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def load_snapshot(path: str | os.PathLike[str], *, config: IndexConfig | None = None) -> VectorIndex:
    """Load a snapshot written by :func:`save_snapshot`, verifying its checksum before parsing it.

    Args:
        path: the snapshot file.
        config: settings to run the loaded index with; None keeps those saved with it. Search
            settings apply at once, a different kind at the next rebuild.

    Raises:
        FileNotFoundError: no snapshot at ``path``.
        IndexCorruptError: the file does not match its checksum or cannot be parsed.
    """
    path = Path(path)
    with path.open("rb") as fh:
        try:
            if fh.read(8) != _MAGIC:
                raise IndexCorruptError(f"index snapshot {path.name} is not a snapshot of this format")
            header = json.loads(fh.read(int.from_bytes(fh.read(4), "little")))
            start = fh.tell()
            version = header.get("format")
            if version not in (1, SNAPSHOT_FORMAT):
                raise IndexCorruptError(f"index snapshot {path.name} has an unknown format")
            digest = hashlib.sha256()
            while block := fh.read(_BLOCK):
                digest.update(block)
            if digest.hexdigest() != header["sha256"]:
                raise IndexCorruptError(f"index snapshot {path.name} does not match its checksum")
            sizes = header["parts"] if version == SNAPSHOT_FORMAT else [fh.tell() - start]
            if sum(sizes) != fh.tell() - start:
                raise IndexCorruptError(f"index snapshot {path.name} disagrees with its header")
            parts = []
            for size in sizes:
                fh.seek(start)
                # Reading straight from the file keeps the peak at one copy of the index.
                reader = faiss.PyCallbackIOReader(fh.read)  # type: ignore[attr-defined]
                parts.append(faiss.read_index(reader))
                start += size
            structure = _structure(header, parts, path.name)
            if config is None:
                config = _saved_config(header, path.name)
        except (ValueError, KeyError, RuntimeError, TypeError) as exc:
            raise IndexCorruptError(f"index snapshot {path.name} is unreadable: {exc}") from None
    if structure.index.d != header["dim"] or structure.index.ntotal != header["count"]:
        raise IndexCorruptError(f"index snapshot {path.name} disagrees with its header")
    structure.refine = config.pq_refine
    return VectorIndex._from_structure(structure, config, int(header["last_id"]))


def _stream(index: faiss.Index, sink: Callable[[bytes], object]) -> int:
    """Serialise ``index`` into ``sink`` block by block; returns the byte count."""
    written = 0

    def write(block: bytes) -> None:
        nonlocal written
        written += len(block)
        sink(block)

    # The callback writer is missing from FAISS's type stubs.
    faiss.write_index(index, faiss.PyCallbackIOWriter(write))  # type: ignore[attr-defined]
    return written


def _structure(header: dict[str, Any], parts: list[faiss.Index], name: str) -> Structure:
    kind = header.get("kind", "flat")
    if kind not in _KINDS:
        raise IndexCorruptError(f"index snapshot {name} holds an unknown kind {kind!r}")
    index = parts[0]
    expected: type[faiss.Index] = {
        "flat": faiss.IndexFlat,
        "hnsw": faiss.IndexHNSW,
        "ivf_flat": faiss.IndexIVFFlat,
        "ivf_pq": faiss.IndexIVFPQ,
    }[kind]
    wrapped = kind in ("flat", "hnsw")
    inner = faiss.downcast_index(index.index) if isinstance(index, faiss.IndexIDMap2) else index
    if (
        not isinstance(inner, expected)
        or isinstance(index, faiss.IndexIDMap2) != wrapped
        or len(parts) != (2 if kind == "ivf_pq" else 1)
    ):
        raise IndexCorruptError(f"index snapshot {name} holds an unexpected index type")
    raw: faiss.IndexIDMap2 | None = None
    if kind == "ivf_pq":
        stored = parts[1]
        if not isinstance(stored, faiss.IndexIDMap2) or stored.ntotal != index.ntotal:
            raise IndexCorruptError(f"index snapshot {name} holds an unexpected index type")
        raw = stored
    return Structure(kind, index, raw, int(header.get("trained_size", index.ntotal)))


def _saved_config(header: dict[str, Any], name: str) -> IndexConfig:
    if "config" not in header:
        return IndexConfig()
    try:
        return config_from_dict(IndexConfig, header["config"])
    except ConfigError as exc:
        raise IndexCorruptError(
            f"index snapshot {name} has settings this version cannot read: {exc}"
        ) from None
