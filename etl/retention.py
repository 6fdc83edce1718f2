"""Retention of personal data in the archive: ``archive.personal_data_retention_days`` after it
was archived, a package keeps its figures but no pseudonyms.

What holds pseudonyms in a tertial package: the quarantine examples in ``validation.json``
(each failed rule's ``examples`` and the messages naming them), the GX results
(``validation/gx``: unexpected values and indexes) and the Data Docs built from them
(``validation/data_docs``). Redaction empties the examples (the counts per rule stay), replaces
them in the messages with ``[gallrat]`` and removes the two folders. The package stays
verifiable: its manifest is rewritten with a ``redacted`` record (what was removed, under which
rule, the manifest and content hashes before), and the archive's index gets a write-once
``<year>-<T>-v<N>.redacted.json`` beside the original entry, so ``verify`` accepts exactly this
change and nothing else. The result is computed from the old manifest and the rule alone (the
clock only decides when), so a redaction that a kill interrupted is completed identically by the
next purge.
Staging (quarantine rows) has its own, shorter rule: ``staging.retention_days``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import shutil
from pathlib import Path
from zoneinfo import ZoneInfo

from etl import archive, staging
from etl.periods import Period

log = logging.getLogger(__name__)

VALIDATION = "validation.json"
PERSONAL_DIRS = ("validation/gx", "validation/data_docs")
REDACTED = "[gallrat]"


def archived_on(package: Path, timezone: str) -> dt.date:
    """The local day the package was archived (its manifest is written once, then renamed in)."""
    stamp = (Path(package) / archive.MANIFEST).stat().st_mtime
    return dt.datetime.fromtimestamp(stamp, ZoneInfo(timezone)).date()


def due_date(package: Path, days: int, timezone: str) -> dt.date:
    """The first day on which ``package`` holds no pseudonyms any more."""
    return archived_on(package, timezone) + dt.timedelta(days=days)


def redact_reports(reports: list[dict]) -> list[dict]:
    """validation.json without example keys: each rule's examples emptied, and every text that
    named one says ``[gallrat]`` instead. Counts are unchanged."""
    examples = sorted(
        {str(e) for report in reports for rule in report.get("rules", []) for e in rule.get("examples", [])},
        key=lambda e: (-len(e), e),  # longer first: no key is cut by a shorter one inside it
    )

    def clean(value):
        if isinstance(value, str):
            for example in examples:
                value = value.replace(example, REDACTED)
            return value
        if isinstance(value, list):
            return [clean(v) for v in value]
        if isinstance(value, dict):
            return {k: ([] if k == "examples" else clean(v)) for k, v in value.items()}
        return value

    return clean(reports)


def _text(data) -> bytes:
    """JSON exactly as staging.write_json writes it (so the manifest's hash is the file's)."""
    return (json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode()


def _redacted_manifest(package: Path, manifest: dict, days: int) -> tuple[dict, bytes]:
    """The manifest after redaction and the new validation.json, from the old manifest alone."""
    files = {
        name: entry
        for name, entry in manifest["files"].items()
        if not any(name.startswith(d + "/") for d in PERSONAL_DIRS)
    }
    removed = sorted(set(manifest["files"]) - set(files))
    new_validation = None
    if VALIDATION in files:
        new_validation = _text(redact_reports(staging.read_json(package / VALIDATION)))
        digest = hashlib.sha256(new_validation).hexdigest()
        files[VALIDATION] = {"sha256": digest, "size": len(new_validation)}
    record = {
        "rule": f"archive.personal_data_retention_days = {days}",
        "removed": removed,
        "rewritten": [VALIDATION] if new_validation is not None else [],
        "before": {
            "manifest_sha256": archive.sha256(package / archive.MANIFEST),
            "content_sha256": manifest["content_sha256"],
        },
    }
    new = {**manifest, "files": files, "content_sha256": archive.content_hash(files), "redacted": record}
    return new, new_validation


def redact_package(root: Path, package: Path, days: int) -> bool:
    """Redact one package (checked intact first); False when it already is redacted."""
    manifest = staging.read_json(package / archive.MANIFEST)
    index = archive.index_entry(Path(root), package)
    marker = index.with_name(index.stem + archive.REDACTED_INDEX)
    if "redacted" in manifest:  # written last: the redaction is complete
        return False
    problems = archive.verify_package(package)
    if problems and not marker.exists():  # with a marker: an interrupted redaction, completed below
        raise archive.ArchiveError(
            f"Gallras inte: paketet stämmer inte med sitt manifest: {'; '.join(problems)}"
        )
    new, validation = _redacted_manifest(package, manifest, days)
    new_text = _text(new)
    entry = {
        "package": package.relative_to(root).as_posix(),
        "previous_manifest_sha256": new["redacted"]["before"]["manifest_sha256"],
        "manifest_sha256": hashlib.sha256(new_text).hexdigest(),
    }
    if marker.exists() and staging.read_json(marker) != entry:
        raise archive.ArchiveError(f"{marker}: en annan gallring är påbörjad för {package}.")
    staging.write_json(marker, entry)  # first: verify accepts the redacted package only with it
    if validation is not None:
        with staging.atomic_path(package / VALIDATION) as tmp:
            tmp.write_bytes(validation)
    for folder in PERSONAL_DIRS:
        shutil.rmtree(package / folder, ignore_errors=True)
    with staging.atomic_path(package / archive.MANIFEST_SUM) as tmp:
        tmp.write_text(f"{entry['manifest_sha256']}  {archive.MANIFEST}\n", encoding="utf-8")
    with staging.atomic_path(package / archive.MANIFEST) as tmp:  # last: marks the redaction done
        tmp.write_bytes(new_text)
    log.info("Gallrade personuppgifter i %s (%s)", package, new["redacted"]["rule"])
    return True


def purge_archive(root: Path, days: int, today: dt.date, timezone: str | None = None) -> list[Path]:
    """Redact every tertial package archived ``days`` or more days before ``today`` (local
    dates in ``timezone``, by default the unit's)."""
    if timezone is None:
        from etl.settings import settings

        timezone = settings().timezone
    root = Path(root)
    redacted = []
    for base in sorted(root.glob("[0-9]*/T[123]")):
        period = Period(int(base.parent.name), int(base.name[1]))
        for package in archive.versions(root, period):
            if today >= due_date(package, days, timezone) and redact_package(root, package, days):
                redacted.append(package)
    return redacted
