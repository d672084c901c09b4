"""Serving stored media to permitted users, with HTTP range requests so video can seek; the sha256
of stored files."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from django.http import FileResponse, HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
_BLOCK = 256 * 1024


def stream_sha256(fh: IO[bytes]) -> tuple[str, int]:
    """The hex sha256 and the length of what is left to read in a binary stream, read in blocks."""
    digest = hashlib.sha256()
    size = 0
    while block := fh.read(_BLOCK):
        digest.update(block)
        size += len(block)
    return digest.hexdigest(), size


def file_sha256(path: Path) -> str:
    """The hex sha256 of a file."""
    with path.open("rb") as fh:
        return stream_sha256(fh)[0]


def _read_range(path: Path, start: int, length: int) -> Iterator[bytes]:
    with path.open("rb") as fh:
        fh.seek(start)
        left = length
        while left > 0:
            block = fh.read(min(_BLOCK, left))
            if not block:
                return
            left -= len(block)
            yield block


def media_response(request: HttpRequest, path: Path, content_type: str) -> HttpResponseBase:
    """A file response honouring a single ``Range: bytes=a-b`` header (what browsers send to seek)."""
    size = path.stat().st_size
    match = _RANGE.match(request.headers.get("Range", "").strip())
    if match is None or (not match.group(1) and not match.group(2)):
        response: HttpResponseBase = FileResponse(path.open("rb"), content_type=content_type)
    else:
        first, last = match.groups()
        if first:
            start = int(first)
            end = min(int(last), size - 1) if last else size - 1
        else:
            start = max(0, size - int(last))
            end = size - 1
        if start >= size or start > end:
            refused = HttpResponse(status=416)
            refused["Content-Range"] = f"bytes */{size}"
            return refused
        response = StreamingHttpResponse(_read_range(path, start, end - start + 1), status=206,
                                         content_type=content_type)
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
        response["Content-Length"] = str(end - start + 1)
    response["Accept-Ranges"] = "bytes"
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response
