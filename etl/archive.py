"""The archive: immutable, versioned packages for the verksamhetsberättelse.

``<root>/<year>/<T1|T2|T3>/v<N>/`` holds a run's outputs and ``manifest.json`` (SHA-256 and
size of every file). A package is assembled in a temporary folder beside its target and moved
into place with one rename, so a killed run leaves no partial package. Packages are never
changed: a re-run with identical content reuses the existing version; different content
becomes ``v<N+1>``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from etl import staging
from etl.periods import Period

MANIFEST = "manifest.json"


class ArchiveError(RuntimeError):
    """The archive is not as its manifests say."""


@dataclass(frozen=True)
class ArchiveResult:
    path: Path
    version: int
    created: bool


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _file_entries(folder: Path) -> dict[str, dict]:
    return {
        p.relative_to(folder).as_posix(): {"sha256": sha256(p), "size": p.stat().st_size}
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != MANIFEST
    }


def content_hash(files: dict[str, dict]) -> str:
    """One hash over every file's name and hash: equal content gives an equal hash."""
    h = hashlib.sha256()
    for name in sorted(files):
        h.update(f"{name}\0{files[name]['sha256']}\n".encode())
    return h.hexdigest()


def period_dir(root: Path, period: Period) -> Path:
    return Path(root) / str(period.year) / f"T{period.tertial}"


def versions(root: Path, period: Period) -> list[Path]:
    base = period_dir(root, period)
    found = [p for p in base.glob("v*") if p.is_dir() and p.name[1:].isdigit()] if base.exists() else []
    return sorted(found, key=lambda p: int(p.name[1:]))


def archive_package(root: Path, period: Period, files: dict[str, Path], metadata: dict) -> ArchiveResult:
    """Archive ``files`` (name in package → source path) with ``metadata`` in the manifest."""
    base = period_dir(root, period)
    base.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".incoming-", dir=base))
    try:
        for name, src in sorted(files.items()):
            dest = tmp / name
            dest.parent.mkdir(parents=True, exist_ok=True)
            if Path(src).is_dir():
                shutil.copytree(src, dest)
            else:
                shutil.copyfile(src, dest)
        entries = _file_entries(tmp)
        digest = content_hash(entries)
        for existing in versions(root, period):
            if staging.read_json(existing / MANIFEST).get("content_sha256") == digest:
                return ArchiveResult(existing, int(existing.name[1:]), created=False)
        manifest = {**metadata, "period": str(period), "content_sha256": digest, "files": entries}
        staging.write_json(tmp / MANIFEST, manifest)
        _fsync_tree(tmp)
        existing = versions(root, period)
        number = int(existing[-1].name[1:]) + 1 if existing else 1
        target = base / f"v{number}"
        os.rename(tmp, target)  # atomic; fails rather than overwrite if target appeared meanwhile
        return ArchiveResult(target, number, created=True)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)


def _fsync_tree(folder: Path) -> None:
    for p in folder.rglob("*"):
        if p.is_file():
            with open(p, "rb") as f:
                os.fsync(f.fileno())


def verify(root: Path) -> list[str]:
    """Re-check every manifest under ``root``; return the problems found (empty when intact)."""
    problems: list[str] = []
    for manifest_path in sorted(Path(root).rglob(MANIFEST)):
        package = manifest_path.parent
        expected = staging.read_json(manifest_path)["files"]
        actual = _file_entries(package)
        for name in sorted(set(expected) - set(actual)):
            problems.append(f"{package}: saknas: {name}")
        for name in sorted(set(actual) - set(expected)):
            problems.append(f"{package}: okänd fil: {name}")
        for name in sorted(set(expected) & set(actual)):
            if expected[name] != actual[name]:
                problems.append(f"{package}: ändrad: {name}")
    return problems
