"""Sets of ids as sorted int64 arrays, and the FAISS selectors that filter a search by them."""

from __future__ import annotations

from collections.abc import Iterable

import faiss
import numpy as np


def as_ids(ids: Iterable[int] | np.ndarray | None) -> np.ndarray:
    """Sorted unique non-negative int64 ids; sorted unique input is used as it is."""
    if ids is None:
        return np.zeros(0, np.int64)
    array = ids if isinstance(ids, np.ndarray) else np.fromiter(ids, dtype=np.int64)
    array = np.ascontiguousarray(array, dtype=np.int64).reshape(-1)
    if array.size > 1 and not bool(np.all(array[1:] > array[:-1])):
        array = np.sort(array)
        array = array[np.concatenate(([True], array[1:] != array[:-1]))]
    # Stored ids are never negative, and a negative one would wrap around in a bitmap selector.
    return array[np.searchsorted(array, 0) :]


def member(sorted_ids: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Boolean mask: which of ``ids`` are in ``sorted_ids``."""
    if sorted_ids.size == 0:
        return np.zeros(ids.shape, bool)
    pos = np.minimum(np.searchsorted(sorted_ids, ids), sorted_ids.size - 1)
    return sorted_ids[pos] == ids


def without(sorted_ids: np.ndarray, remove: np.ndarray) -> np.ndarray:
    """``sorted_ids`` (unique) less the ids of ``remove`` (which may hold ids not in it)."""
    if remove.size == 0 or sorted_ids.size == 0:
        return sorted_ids
    remove = np.unique(remove)
    remove = remove[member(sorted_ids, remove)]
    return np.delete(sorted_ids, np.searchsorted(sorted_ids, remove))


def id_selector(
    subset: np.ndarray | None, excluded: np.ndarray
) -> tuple[faiss.IDSelector | None, list[object]]:
    """A FAISS selector for the permitted ids, and the objects it points into (keep them alive)."""
    if subset is None:
        if excluded.size == 0:
            return None, []
        inner = faiss.IDSelectorBatch(excluded)
        return faiss.IDSelectorNot(inner), [inner]
    top = int(subset[-1]) if subset.size else 0
    # A bitmap answers in one memory read; use it while it costs no more than ~8 bytes per id, the
    # size of the hash set it replaces.
    if top < 64 * max(subset.size, 16_384):
        bits = np.zeros(top + 1, bool)
        bits[subset] = True
        bitmap = np.packbits(bits, bitorder="little")
        return faiss.IDSelectorBitmap(bitmap.size, faiss.swig_ptr(bitmap)), [bitmap]
    batch = faiss.IDSelectorBatch(subset)
    return batch, []
