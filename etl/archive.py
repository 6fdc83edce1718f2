"""The archive: immutable, versioned packages for the verksamhetsberättelse.

``<root>/<year>/<T1|T2|T3>/v<N>/`` holds a run's outputs and ``manifest.json`` (SHA-256 and
size of every file); ``manifest.sha256`` holds the manifest's own checksum, so that no byte of
a package can change unnoticed. A package is assembled in a temporary folder beside its target
(``.incoming-*``, never read as a package) and moved into place with one rename, so a killed
run leaves no partial package. Packages are never changed: a re-run with identical content
reuses the existing version; different content becomes ``v<N+1>``.

``<root>/<year>/VB/v<N>/`` (the verksamhetsberättelse bundle) is written the same way; its
``references.json`` points at the year's latest T1, T2 and T3 packages by path and hash.

``<root>/.index/`` records every version written (one write-once file each, outside the package
folders), so ``verify`` notices a deleted latest version or a deleted period. ``verify`` also
refuses empty files, compares each package's ``email_ledger.json`` with the period's e-mail
ledger, and reports ``.incoming-*`` folders left by a killed run (the next archiving removes them).
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from etl import staging
from etl.mail import ledger
from etl.periods import Period

MANIFEST = "manifest.json"
EMAIL_LEDGER_DIR = ledger.EMAIL_LEDGER_DIR
"""Beside a period's versions: the append-only e-mail ledger (etl.mail.ledger); each package holds the
entries of its own run in email_ledger.json."""
MANIFEST_SUM = "manifest.sha256"
REFERENCES = "references.json"
INCOMING = ".incoming-"
"""Prefix of a package being written (left behind only by a killed run; never a package)."""
VB = "VB"
INDEX_DIR = ".index"
"""Under the root: ``<year>-<T1|T2|T3|VB>-v<N>.json`` per version written (its manifest's hash)."""
REDACTED_INDEX = ".redacted.json"
"""Beside an index entry: the manifest before and after a retention redaction (etl/retention.py)."""
PACKAGE_LEDGER = "email_ledger.json"
TERTIALS = ("T1", "T2", "T3")
_RESERVED = {MANIFEST, MANIFEST_SUM}
_VERSION = re.compile(r"v([1-9][0-9]*)")
_KIND = re.compile(r"T[123]|VB")
_RENAME_ATTEMPTS = 5


class ArchiveError(RuntimeError):
    """The archive is not as its manifests say, or a package cannot be written."""


@dataclass(frozen=True)
class ArchiveResult:
    path: Path
    version: int
    created: bool


def sha256(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _file_entries(folder: Path) -> dict[str, dict]:
    return {
        p.relative_to(folder).as_posix(): {"sha256": sha256(p), "size": p.stat().st_size}
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.relative_to(folder).as_posix() not in _RESERVED
    }


def content_hash(files: dict[str, dict]) -> str:
    """One hash over every file's name and hash: equal content gives an equal hash."""
    h = hashlib.sha256()
    for name in sorted(files):
        h.update(f"{name}\0{files[name]['sha256']}\n".encode())
    return h.hexdigest()


def period_dir(root: Path, period: Period) -> Path:
    return Path(root) / str(period.year) / f"T{period.tertial}"


def _versions(base: Path) -> list[Path]:
    found = [p for p in base.iterdir() if p.is_dir() and _VERSION.fullmatch(p.name)] if base.is_dir() else []
    return sorted(found, key=lambda p: int(p.name[1:]))


def versions(root: Path, period: Period) -> list[Path]:
    return _versions(period_dir(root, period))


def _check_name(name: str) -> None:
    pure = PurePosixPath(name)
    if not name or pure.is_absolute() or ".." in pure.parts or "\\" in name:
        raise ArchiveError(f"Ogiltigt filnamn i arkivpaketet: {name!r}.")
    if name in _RESERVED:
        raise ArchiveError(f"Filnamnet {name!r} är reserverat för paketets manifest.")


def _write_package(
    base: Path, files: dict[str, Path], metadata: dict, generated: dict[str, Any]
) -> ArchiveResult:
    """Copy ``files`` and write ``generated`` JSON files into a temporary folder, then either
    recognise an identical existing version or rename the folder into place as the next one."""
    for name in [*files, *generated]:
        _check_name(name)
    missing = sorted(name for name, src in files.items() if not Path(src).exists())
    if missing:
        raise ArchiveError(f"Filer som skulle arkiveras saknas: {', '.join(missing)}.")
    empty = sorted(n for n, src in files.items() if Path(src).is_file() and Path(src).stat().st_size == 0)
    if empty:
        raise ArchiveError(f"Tomma filer arkiveras inte (avbruten skrivning?): {', '.join(empty)}.")
    base.mkdir(parents=True, exist_ok=True)
    _clean_incoming(base)
    tmp = Path(tempfile.mkdtemp(prefix=INCOMING, dir=base))
    writing = os.open(tmp, os.O_RDONLY)
    fcntl.flock(writing, fcntl.LOCK_EX)  # "alive": _clean_incoming of another run leaves it alone
    try:
        for name, src in sorted(files.items()):
            dest = tmp / name
            dest.parent.mkdir(parents=True, exist_ok=True)
            if Path(src).is_dir():
                shutil.copytree(src, dest)
            else:
                shutil.copyfile(src, dest)
        for name, data in sorted(generated.items()):
            staging.write_json(tmp / name, data)
        entries = _file_entries(tmp)
        digest = content_hash(entries)
        manifest = {**metadata, "content_sha256": digest, "files": entries}
        staging.write_json(tmp / MANIFEST, manifest)
        (tmp / MANIFEST_SUM).write_text(f"{sha256(tmp / MANIFEST)}  {MANIFEST}\n", encoding="utf-8")
        _fsync_tree(tmp)
        for _ in range(_RENAME_ATTEMPTS):
            existing = _versions(base)
            for package in existing:
                if _read_manifest(package).get("content_sha256") == digest:
                    _index(base, package)
                    return ArchiveResult(package, int(package.name[1:]), created=False)
            number = int(existing[-1].name[1:]) + 1 if existing else 1
            target = base / f"v{number}"
            try:
                os.rename(tmp, target)  # atomic; fails rather than replace a package that appeared
            except OSError as err:
                if err.errno in (errno.EEXIST, errno.ENOTEMPTY):
                    continue  # another run took v<number> meanwhile: look again
                raise
            _index(base, target)
            return ArchiveResult(target, number, created=True)
        raise ArchiveError(f"Kunde inte skapa en ny paketversion i {base}: andra körningar skrev samtidigt.")
    finally:
        os.close(writing)
        if tmp.exists():
            shutil.rmtree(tmp)


def _clean_incoming(base: Path) -> None:
    """Remove ``.incoming-*`` folders a killed run left. A live writer holds an ``flock`` on its
    folder (released by the kernel when the process dies), so a folder that can be locked is dead."""
    for stray in base.glob(f"{INCOMING}*"):
        if stray.is_symlink() or not stray.is_dir():
            continue
        try:
            fd = os.open(stray, os.O_RDONLY)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            continue  # another run is writing it right now
        finally:
            os.close(fd)
        shutil.rmtree(stray, ignore_errors=True)


def _index_file(base: Path, number: int) -> Path:
    return base.parent.parent / INDEX_DIR / f"{base.parent.name}-{base.name}-v{number}.json"


def index_entry(root: Path, package: Path) -> Path:
    """The index file of ``package`` (``<root>/<year>/<kind>/v<N>``)."""
    return Path(root) / INDEX_DIR / f"{package.parent.parent.name}-{package.parent.name}-{package.name}.json"


def _redacted(index_path: Path, entry: dict, package: Path) -> bool:
    """The package was redacted under the retention rule from the manifest ``entry`` recorded."""
    try:
        marker = staging.read_json(index_path.with_name(index_path.stem + REDACTED_INDEX))
    except (OSError, ValueError):
        return False
    return marker.get("previous_manifest_sha256") == entry.get("manifest_sha256") and marker.get(
        "manifest_sha256"
    ) == sha256(package / MANIFEST)


def _index(base: Path, package: Path) -> None:
    """Record ``package`` in the index (once; also versions an earlier, killed run left unrecorded)."""
    for found in _versions(base):
        if int(found.name[1:]) > int(package.name[1:]):
            break
        path = _index_file(base, int(found.name[1:]))
        if not path.exists() and (found / MANIFEST).is_file():
            staging.write_json(path, {"package": f"{base.parent.name}/{base.name}/{found.name}",
                                      "manifest_sha256": sha256(found / MANIFEST)})  # fmt: skip


def _verify_index(root: Path) -> list[str]:
    """Every indexed version still exists with the manifest it was written with."""
    problems = []
    for path in sorted((root / INDEX_DIR).glob("*.json")):
        if path.name.endswith(REDACTED_INDEX):
            continue  # read beside its entry (_redacted)
        try:
            entry = staging.read_json(path)
            package = root / entry["package"]
        except (OSError, ValueError, KeyError, TypeError):
            problems.append(f"{path}: går inte att läsa")
            continue
        if not (package / MANIFEST).is_file():
            problems.append(f"{package}: saknas: paketversionen (finns i arkivets förteckning)")
        elif sha256(package / MANIFEST) != entry.get("manifest_sha256") and not _redacted(
            path, entry, package
        ):
            problems.append(f"{package}: ändrad: {MANIFEST} (jämfört med arkivets förteckning)")
    return problems


def _verify_ledger(package: Path) -> list[str]:
    """The e-mail ledger entries the package recorded are still in the period's ledger, unchanged."""
    recorded_path = package / PACKAGE_LEDGER
    if not recorded_path.is_file():
        return []
    try:
        recorded = staging.read_json(recorded_path)
    except (OSError, ValueError):
        return []  # the manifest check reports a changed file
    if not isinstance(recorded, list) or not all(isinstance(e, dict) for e in recorded):
        return []  # not a pipeline's ledger list (the manifest still guards the file)
    folder = package.parent / EMAIL_LEDGER_DIR
    present = []
    for p in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            present.append(staging.read_json(p))
        except (OSError, ValueError):
            present.append(None)
    return [
        f"{package}: utskicksloggen saknar eller har ändrat posten till {e.get('to')} "
        f"({e.get('attachment', {}).get('name')}, omskick {e.get('resend')})"
        for e in recorded
        if e not in present
    ]


def _read_manifest(package: Path) -> dict:
    try:
        return staging.read_json(package / MANIFEST)
    except (OSError, ValueError):
        return {}


def read_manifest(package: Path) -> dict:
    """A package's manifest (its metadata and files); empty when it cannot be read."""
    return _read_manifest(package)


def archive_package(root: Path, period: Period, files: dict[str, Path], metadata: dict) -> ArchiveResult:
    """Archive ``files`` (name in package → source path) with ``metadata`` in the manifest."""
    return _write_package(period_dir(root, period), files, {**metadata, "period": str(period)}, {})


def _reference(root: Path, package: Path) -> dict:
    return {
        "path": package.relative_to(root).as_posix(),
        "version": int(package.name[1:]),
        "content_sha256": _read_manifest(package).get("content_sha256"),
        "manifest_sha256": sha256(package / MANIFEST),
    }


def assemble_vb(root: Path, year: int, extra_files: dict[str, Path]) -> ArchiveResult:
    """Write ``<root>/<year>/VB/v<N>/``: the year's latest T1, T2 and T3 packages referenced by
    hash in ``references.json``, plus ``extra_files`` (the VB workbook). The full year (T3) must be
    archived; a T1 or T2 that was never run is listed under ``missing`` (the VB workbook then
    shows that tertial computed from the T3 run's extract)."""
    if isinstance(year, bool) or not isinstance(year, int) or not 1900 <= year <= 9999:
        raise ArchiveError(f"Ogiltigt år för verksamhetsberättelsen: {year!r}.")
    root = Path(root)
    found = {t: (_versions(root / str(year) / t) or [None])[-1] for t in TERTIALS}
    if found["T3"] is None:
        raise ArchiveError(
            f"Verksamhetsberättelsen för {year} kan inte sammanställas: arkivpaket saknas för "
            f"T3 {year}. Kör den tertialen först."
        )
    latest = {t: package for t, package in found.items() if package is not None}
    problems = [p for package in latest.values() for p in verify_package(package)]
    if problems:
        raise ArchiveError(
            f"Verksamhetsberättelsen för {year} kan inte sammanställas: arkivpaketen stämmer inte med "
            f"sina manifest: {'; '.join(problems)}"
        )
    references = {
        "year": year,
        "packages": {t: _reference(root, p) for t, p in latest.items()},
        "missing": [t for t in TERTIALS if t not in latest],
    }
    metadata = {"year": year, "package": VB}
    return _write_package(root / str(year) / VB, dict(extra_files), metadata, {REFERENCES: references})


def _fsync_tree(folder: Path) -> None:
    for p in folder.rglob("*"):
        if p.is_file():
            with open(p, "rb") as f:
                os.fsync(f.fileno())


def verify_package(package: Path) -> list[str]:
    """Problems with one package: its manifest's own checksum, then every file."""
    if not (package / MANIFEST).is_file():
        return [f"{package}: saknas: {MANIFEST}"]
    problems = []
    if not (package / MANIFEST_SUM).is_file():
        problems.append(f"{package}: saknas: {MANIFEST_SUM}")
    elif (package / MANIFEST_SUM).read_text(encoding="utf-8").split()[:1] != [sha256(package / MANIFEST)]:
        problems.append(f"{package}: ändrad: {MANIFEST}")
    manifest = _read_manifest(package)
    expected = manifest.get("files")
    if not isinstance(expected, dict):
        return [*problems, f"{package}: {MANIFEST} går inte att läsa"]
    if manifest.get("content_sha256") != content_hash(expected):
        problems.append(f"{package}: ändrad: {MANIFEST} (innehållets kontrollsumma stämmer inte)")
    actual = _file_entries(package)
    problems += [f"{package}: tom fil: {name}" for name, e in sorted(actual.items()) if e["size"] == 0]
    problems += [f"{package}: saknas: {name}" for name in sorted(set(expected) - set(actual))]
    problems += [f"{package}: okänd fil: {name}" for name in sorted(set(actual) - set(expected))]
    common = sorted(set(expected) & set(actual))
    problems += [f"{package}: ändrad: {name}" for name in common if expected[name] != actual[name]]
    return problems


def _verify_references(root: Path, package: Path) -> list[str]:
    """A VB package's references: each referenced manifest still has the recorded hashes."""
    try:
        refs = staging.read_json(package / REFERENCES)["packages"]
    except (OSError, ValueError, KeyError, TypeError):
        return [f"{package}: {REFERENCES} saknas eller går inte att läsa"]
    problems = []
    for tertial, ref in sorted(refs.items()):
        target = root / ref["path"]
        before = _read_manifest(target).get("redacted", {}).get("before")  # redacted later: as it was
        if not (target / MANIFEST).is_file():
            problems.append(f"{package}: refererat paket saknas: {tertial} ({ref['path']})")
        elif before == {k: ref[k] for k in ("manifest_sha256", "content_sha256")}:
            continue  # the index check vouches for the redaction
        elif sha256(target / MANIFEST) != ref["manifest_sha256"]:
            problems.append(f"{package}: refererat paket ändrat: {tertial} ({ref['path']}/{MANIFEST})")
        elif _read_manifest(target).get("content_sha256") != ref["content_sha256"]:
            problems.append(f"{package}: refererat paket ändrat: {tertial} ({ref['path']})")
    return problems


def verify(root: Path) -> list[str]:
    """Re-check every package under ``root``; return the problems found (empty when intact).

    Also reports a missing root, versions that have disappeared (v1 … v<N> must all exist, and
    every version in the index), empty files, changed or missing e-mail ledger entries,
    ``.incoming-*`` leftovers and, for VB bundles, referenced packages whose manifests changed.
    """
    root = Path(root)
    if not root.is_dir():
        return [f"{root}: arkivet finns inte (fel sökväg?)"]
    problems: list[str] = _verify_index(root)
    for base in sorted(p for p in root.glob("*/*") if p.is_dir() and p.parent.name.isdigit()):
        if not _KIND.fullmatch(base.name):
            continue
        found = _versions(base)
        strays = sorted(
            p.name
            for p in base.iterdir()
            if p not in found and not p.name.startswith(INCOMING) and p.name != EMAIL_LEDGER_DIR
        )
        problems += [f"{base}: okänd fil: {name}" for name in strays]
        problems += [
            f"{base}: ofullständigt paket från en avbruten körning: {p.name} (tas bort vid nästa arkivering)"
            for p in sorted(base.glob(f"{INCOMING}*"))
        ]
        numbers = {int(p.name[1:]) for p in found}
        top = max(numbers, default=0)
        problems += [f"{base}: saknas: paketversion v{n}" for n in range(1, top + 1) if n not in numbers]
        problems += ledger.chain_problems(base / EMAIL_LEDGER_DIR)
        for package in found:
            problems += verify_package(package)
            problems += _verify_ledger(package)
            if base.name == VB:
                problems += _verify_references(root, package)
    return problems
