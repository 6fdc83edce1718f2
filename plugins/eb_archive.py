"""The archive in the Airflow UI: a menu entry *Arkiv* listing every package, with its Data Docs,
validation summary and workbooks, behind Airflow's login.

A FastAPI app mounted by the api-server under ``/eb-arkiv`` (plugin apps are not authenticated
by Airflow: every route here depends on ``requires_authenticated``, i.e. the UI's session
token). Files are served read-only from ``$EB_DATA_DIR/archive`` and only from inside a
package. Data Docs are archived self-contained (``etl.validation.offline_assets``: GX's CDN
assets vendored from pinned XStatic packages into the package, links rewritten); a page of an
older package that still names a CDN is rewritten when served to the same files under
``/eb-arkiv/static/`` (behind the same login), and anything else external is dropped, so
nothing is requested from outside the machine.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

from airflow.plugins_manager import AirflowPlugin

URL_PREFIX = "/eb-arkiv"
_PART = re.compile(r"^(T[123]|VB)$")
_VERSION = re.compile(r"^v\d+$")
_CSS = """
body{font-family:Arial,Helvetica,sans-serif;margin:0;color:#212529}
.container{padding:1rem 2rem}
table{border-collapse:collapse;margin:.5rem 0}
th,td{border:1px solid #dee2e6;padding:.3rem .6rem;text-align:left}
"""


def archive_root() -> Path:
    from etl.settings import env

    return env().data_dir / "archive"


def packages(root: Path) -> list[dict]:
    """Every package ``<year>/<T1|T2|T3|VB>/v<N>``, newest first, with what it holds."""
    found = []
    for manifest in root.glob("*/*/v*/manifest.json"):
        package = manifest.parent
        year, part, version = package.relative_to(root).parts
        if not (year.isdigit() and _PART.match(part) and _VERSION.match(version)):
            continue
        found.append(
            {
                "path": f"{year}/{part}/{version}",
                "period": f"{year}-{part}" if part != "VB" else f"{year} verksamhetsberättelse",
                "data_docs": (package / "validation" / "data_docs" / "index.html").exists(),
                "validation": (package / "validation.json").exists(),
                "workbooks": sorted(p.name for p in (package / "workbooks").glob("*.xlsx")),
            }
        )
    return sorted(found, key=lambda p: (p["path"].split("/")[0], p["path"].split("/")[1],
                                        int(p["path"].split("/")[2][1:])), reverse=True)  # fmt: skip


def package_file(root: Path, path: str) -> Path | None:
    """The file at ``path`` inside a package of ``root``, or None (outside, missing, not a file)."""
    parts = Path(path).parts
    if len(parts) < 4 or not parts[0].isdigit() or not _PART.match(parts[1]) or not _VERSION.match(parts[2]):
        return None
    base = root.resolve()
    target = (base / path).resolve()
    package = (base / Path(*parts[:3])).resolve()
    if not target.is_relative_to(package) or not target.is_file():
        return None
    return target


def self_contained(page: str, path: str) -> str:
    """A Data Docs page at ``paket/<path>`` with CDN links pointing at the plugin's copies."""
    from etl.validation import offline_assets

    prefix = "../" * len(Path(path).parts) + "static/"  # from paket/<path> up to /eb-arkiv/
    return offline_assets.localise(page, prefix)


def static_file(name: str) -> Path | None:
    """A vendored asset by its local name (only those; never any other file), or None."""
    from etl.validation import offline_assets

    return offline_assets.vendored_files().get(name)


def validation_summary(report: list[dict]) -> str:
    """validation.json as an HTML table (rows read, accepted, quarantined, status, critical)."""
    rows = "".join(
        "<tr>"
        + "".join(
            f"<td>{html.escape(str(v))}</td>"
            for v in (
                r.get("table"), r.get("rows_read"), r.get("rows_accepted"), r.get("rows_quarantined"),
                r.get("status"), "; ".join(r.get("critical") or []) or "–",
            )
        )  # fmt: skip
        + "</tr>"
        for r in report
    )
    names = ("Tabell", "Lästa", "Godkända", "I karantän", "Status", "Kritiskt")
    head = "".join(f"<th>{h}</th>" for h in names)
    return f"<table><tr>{head}</tr>{rows}</table>"


def index_page(root: Path) -> str:
    items = []
    for p in packages(root):
        links = []
        if p["data_docs"]:
            links.append(f"<a href='paket/{p['path']}/validation/data_docs/index.html'>Data Docs</a>")
        if p["validation"]:
            links.append(f"<a href='validering/{p['path']}'>Valideringssammanfattning</a>")
        links += [f"<a href='paket/{p['path']}/workbooks/{html.escape(w)}' download>{html.escape(w)}</a>"
                  for w in p["workbooks"]]  # fmt: skip
        items.append(
            f"<tr><td>{html.escape(p['period'])}</td><td>{p['path'].split('/')[-1]}</td>"
            f"<td>{' · '.join(links) or '–'}</td></tr>"
        )
    body = (
        "<table><tr><th>Period</th><th>Version</th><th>Innehåll</th></tr>" + "".join(items) + "</table>"
        if items
        else f"<p>Arkivet {html.escape(str(root))} har inga paket ännu.</p>"
    )
    return _page("Arkiv – tertialuppföljningen", body)


def _page(title: str, body: str) -> str:
    return (
        f"<!DOCTYPE html><html lang='sv'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{_CSS}</style></head><body><div class='container'><h2>{html.escape(title)}</h2>"
        f"{body}</div></body></html>"
    )


def create_app():
    from airflow.api_fastapi.core_api.security import requires_authenticated
    from fastapi import Depends, FastAPI, HTTPException
    from fastapi.responses import FileResponse, HTMLResponse

    app = FastAPI(title="Arkiv", dependencies=[Depends(requires_authenticated())])

    @app.get("/", response_class=HTMLResponse)
    def index() -> str:
        return index_page(archive_root())

    @app.get("/validering/{year}/{part}/{version}", response_class=HTMLResponse)
    def validation(year: str, part: str, version: str) -> str:
        target = package_file(archive_root(), f"{year}/{part}/{version}/validation.json")
        if target is None:
            raise HTTPException(404, "Ingen valideringsrapport i paketet.")
        report = json.loads(target.read_text(encoding="utf-8"))
        return _page(f"Validering {year}-{part} {version}", validation_summary(report))

    @app.get("/paket/{path:path}")
    def package(path: str):
        target = package_file(archive_root(), path)
        if target is None:
            raise HTTPException(404, "Filen finns inte i något arkivpaket.")
        if target.suffix == ".html":
            return HTMLResponse(self_contained(target.read_text(encoding="utf-8"), path))
        return FileResponse(target, filename=target.name if target.suffix == ".xlsx" else None)

    @app.get("/static/{name:path}")
    def static(name: str):
        target = static_file(name)
        if target is None:
            raise HTTPException(404, "Ingen sådan fil.")
        return FileResponse(target)

    return app


class LazyApp:
    """Builds the FastAPI app on the first request: only the api-server serves it, while every
    Airflow process that loads plugins (scheduler, workers) would otherwise import FastAPI's
    security machinery for nothing."""

    def __init__(self) -> None:
        self.app = None

    async def __call__(self, scope, receive, send):
        if self.app is None:
            self.app = create_app()
        await self.app(scope, receive, send)


class ArchivePlugin(AirflowPlugin):
    name = "eb_archive"
    fastapi_apps = [{"app": LazyApp(), "url_prefix": URL_PREFIX, "name": "Arkiv"}]
    external_views = [
        {"name": "Arkiv", "href": URL_PREFIX.lstrip("/") + "/", "destination": "nav", "url_route": "arkiv"}
    ]
