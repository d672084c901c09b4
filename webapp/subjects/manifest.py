"""The manifest of an evidence package, and checking a package against it and against the ledger.

``manifest.json`` names the format, the case, the subject, the export, who made it and when, whether
it is redacted, and the path, sha256 and size of every other file in the zip. The sha256 of the
whole zip is written to the audit ledger when the package is made (an ``export`` record), so a
package is intact when every file matches the manifest, nothing is missing or added, the zip's own
sha256 is one the ledger recorded for that export, and the ledger's chain verifies.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from webapp.audit.ledger import audit_verify
from webapp.audit.models import Action, AuditEntry
from webapp.core.media import file_sha256, stream_sha256

FORMAT = "longview-evidence/1"
MANIFEST = "manifest.json"


def file_entry(path: str, data: bytes) -> dict[str, Any]:
    """A manifest row for one member of the package."""
    return {"path": path, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}


def manifest_json(manifest: dict[str, Any]) -> bytes:
    return (json.dumps(manifest, indent=1, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")


@dataclass(frozen=True, kw_only=True)
class PackageCheck:
    """The outcome of checking one package: ``ok``, or ``problem``, the first thing found wrong."""

    ok: bool
    problem: str = ""
    sha256: str = ""
    files: int = 0
    export_id: int | None = None
    ledger_seq: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "problem": self.problem, "sha256": self.sha256, "files": self.files,
                "export": self.export_id, "ledger_seq": self.ledger_seq}


def _member_sha256(archive: zipfile.ZipFile, name: str) -> tuple[str, int]:
    with archive.open(name) as fh:
        return stream_sha256(fh)


def _check_members(archive: zipfile.ZipFile) -> tuple[str, dict[str, Any]]:
    """The first problem with the zip's members against its manifest ("" when none), and the manifest."""
    names = [info.filename for info in archive.infolist()]
    if len(set(names)) != len(names):
        return "the package holds a file name twice", {}
    if MANIFEST not in names:
        return "the package has no manifest.json", {}
    try:
        manifest = json.loads(archive.read(MANIFEST).decode("utf-8"))
        files = manifest["files"]
        listed = {str(f["path"]): f for f in files}
    except (ValueError, KeyError, TypeError) as exc:
        return f"manifest.json is not a manifest ({type(exc).__name__})", {}
    if manifest.get("format") != FORMAT:
        return f"manifest.json has an unknown format {manifest.get('format')!r}", manifest
    for path, entry in listed.items():
        if path not in names:
            return f"missing file: {path}", manifest
        try:
            digest, size = _member_sha256(archive, path)
        except (zipfile.BadZipFile, OSError, EOFError) as exc:  # a member's CRC check fails, for one
            return f"changed file: {path} (unreadable: {exc})", manifest
        if digest != entry.get("sha256") or size != entry.get("bytes"):
            return f"changed file: {path} (sha256 {digest} does not match the manifest)", manifest
    for name in names:
        if name != MANIFEST and name not in listed:
            return f"extra file: {name} is not in the manifest", manifest
    return "", manifest


def check_package(path: Path) -> PackageCheck:
    """Check one package file: its members against its manifest, its sha256 against the ledger's
    record of the export, and the ledger's chain. Stops at the first problem."""
    if not path.is_file():
        return PackageCheck(ok=False, problem=f"no such file: {path}")
    sha256 = file_sha256(path)
    try:
        with zipfile.ZipFile(path) as archive:
            problem, manifest = _check_members(archive)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        return PackageCheck(ok=False, problem=f"not a readable zip: {exc}", sha256=sha256)
    files = len(manifest.get("files", [])) if manifest else 0
    export_id = manifest.get("export") if manifest else None
    if problem:
        return PackageCheck(ok=False, problem=problem, sha256=sha256, files=files, export_id=export_id)
    recorded = (
        AuditEntry.objects.filter(action=Action.EXPORT, details__export=export_id, details__sha256=sha256)
        .exclude(details__has_key="download").order_by("seq").first()
    )
    if recorded is None:
        return PackageCheck(ok=False, sha256=sha256, files=files, export_id=export_id,
                            problem=f"the package's sha256 {sha256} is not the one the ledger recorded for "
                                    f"export {export_id}")
    case_id = (manifest.get("case") or {}).get("id")
    if recorded.case_id != case_id:
        return PackageCheck(ok=False, sha256=sha256, files=files, export_id=export_id, ledger_seq=recorded.seq,
                            problem=f"the ledger recorded export {export_id} in case {recorded.case_id}, "
                                    f"the manifest says case {case_id}")
    chain = audit_verify()
    if not chain.ok:
        return PackageCheck(ok=False, sha256=sha256, files=files, export_id=export_id, ledger_seq=recorded.seq,
                            problem=f"the audit ledger is broken at record {chain.broken_seq}: {chain.reason}")
    return PackageCheck(ok=True, sha256=sha256, files=files, export_id=export_id, ledger_seq=recorded.seq)
