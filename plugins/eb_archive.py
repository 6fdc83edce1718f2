"""The archive in the Airflow UI: a menu entry *Arkiv* listing every package, with its Data Docs,
validation summary and workbooks, behind Airflow's login.

A FastAPI app mounted by the api-server under ``/eb-arkiv`` (plugin apps are not authenticated
by Airflow: every route here depends on ``requires_authenticated``, i.e. the UI's session
token). Files are served read-only from ``$EB_DATA_DIR/archive`` and only from inside a
package. Data Docs pages are made self-contained when served: GX links Bootstrap, jQuery and
Font Awesome from public CDNs, which an offline server cannot reach and which would tell
third parties who reads the report; those tags are removed and GX's own stylesheet plus a
small one of ours are inlined, so nothing is requested from outside the machine.
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
_EXTERNAL_TAG = re.compile(
    r"<script\b[^>]*\bsrc=[\"']https?://[^\"']*[\"'][^>]*>\s*</script>"
    r"|<link\b[^>]*\bhref=[\"']https?://[^>]*>|<img\b[^>]*\bsrc=[\"']https?://[^>]*>",
    re.IGNORECASE,
)
_EXTERNAL_URL = re.compile(r"url\(['\"]?https?://[^)]*\)")
_FALLBACK_CSS = """
body{font-family:Arial,Helvetica,sans-serif;margin:0;color:#212529}
.container,.container-fluid{padding:1rem 2rem}
table{border-collapse:collapse;margin:.5rem 0}
th,td{border:1px solid #dee2e6;padding:.3rem .6rem;text-align:left}
.card{border:1px solid #dee2e6;border-radius:4px;margin:1rem 0;padding:.5rem 1rem}
.navbar{background:#343a40;color:#fff;padding:.5rem 2rem}.navbar a{color:#fff}
.badge-success,.text-success{color:#1e7e34}.badge-danger,.text-danger{color:#bd2130}
.d-none,.collapse:not(.show){display:none}ul{padding-left:1.2rem}
.fa-check-circle::before{content:"\\2714";color:#1e7e34}.fa-times::before{content:"\\2716";color:#bd2130}
"""
# (Font Awesome is not loaded: its two status icons are drawn with Unicode characters instead.)


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


def self_contained(page: str) -> str:
    """A Data Docs page without CDN scripts and styles, GX's own stylesheet inlined."""
    from importlib.util import find_spec

    # The installed package's own stylesheet (found, not imported: GX takes seconds to import).
    (location,) = find_spec("great_expectations").submodule_search_locations
    gx_css = (Path(location) / "render/view/static/styles/data_docs_default_styles.css").read_text()
    gx_css = _EXTERNAL_URL.sub("none", gx_css)  # the GX logo on S3
    page = _EXTERNAL_URL.sub("none", _EXTERNAL_TAG.sub("", page))
    style = f"<style>{_FALLBACK_CSS}\n{gx_css}</style>"
    return page.replace("</head>", style + "</head>", 1) if "</head>" in page else style + page


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
        f"<style>{_FALLBACK_CSS}</style></head><body><div class='container'><h2>{html.escape(title)}</h2>"
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
            return HTMLResponse(self_contained(target.read_text(encoding="utf-8")))
        return FileResponse(target, filename=target.name if target.suffix == ".xlsx" else None)

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
