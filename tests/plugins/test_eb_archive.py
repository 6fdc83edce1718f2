"""The archive view (plugins/eb_archive.py): listing, safe file access, self-contained Data Docs."""

from __future__ import annotations

import json
import sys
from pathlib import Path

PLUGINS_DIR = Path(__file__).resolve().parents[2] / "plugins"
if str(PLUGINS_DIR) not in sys.path:
    sys.path.insert(0, str(PLUGINS_DIR))

import eb_archive  # noqa: E402

PAGE = """<!DOCTYPE html><html><head>
<link rel="stylesheet" href="https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css"/>
<script src="https://code.jquery.com/jquery-3.7.1.min.js"></script>
<link rel="stylesheet" href="../static/local.css"/>
</head><body><img src="https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/logo-long.png">
<div style="background: url('https://example.org/x.png')">x</div><a href="https://greatexpectations.io">GX</a>
<h1>Validering</h1></body></html>"""


def _package(root: Path, path: str, *, docs=True, books=("a_KUN.xlsx",)) -> Path:
    package = root / path
    (package / "workbooks").mkdir(parents=True)
    (package / "manifest.json").write_text("{}")
    (package / "validation.json").write_text(json.dumps([
        {"table": "payment", "rows_read": 7, "rows_accepted": 6, "rows_quarantined": 1, "status": "varning",
         "critical": []},
    ]))  # fmt: skip
    for book in books:
        (package / "workbooks" / book).write_bytes(b"xlsx")
    if docs:
        (package / "validation" / "data_docs").mkdir(parents=True)
        (package / "validation" / "data_docs" / "index.html").write_text(PAGE)
    return package


def test_packages_listed_newest_first_with_their_contents(tmp_path):
    _package(tmp_path, "2018/T1/v1")
    _package(tmp_path, "2018/T1/v2", docs=False, books=())
    _package(tmp_path, "2019/T2/v1")
    (tmp_path / "2018" / "T1" / "email_ledger").mkdir()  # not a package
    listed = eb_archive.packages(tmp_path)
    assert [p["path"] for p in listed] == ["2019/T2/v1", "2018/T1/v2", "2018/T1/v1"]
    assert listed[2] == {"path": "2018/T1/v1", "period": "2018-T1", "data_docs": True, "validation": True,
                         "workbooks": ["a_KUN.xlsx"]}  # fmt: skip
    page = eb_archive.index_page(tmp_path)
    assert "href='paket/2018/T1/v1/validation/data_docs/index.html'" in page
    assert "href='paket/2018/T1/v1/workbooks/a_KUN.xlsx' download" in page
    assert "href='validering/2018/T1/v1'" in page


def test_only_files_inside_a_package_are_served(tmp_path):
    _package(tmp_path, "2018/T1/v1")
    (tmp_path / "secret.txt").write_text("x")
    assert eb_archive.package_file(tmp_path, "2018/T1/v1/workbooks/a_KUN.xlsx").name == "a_KUN.xlsx"
    for bad in ("2018/T1/v1/../../../secret.txt", "2018/T1/v1/workbooks", "secret.txt", "2018/T9/v1/x",
                "2018/T1/v1/missing.xlsx", "../2018/T1/v1/manifest.json"):  # fmt: skip
        assert eb_archive.package_file(tmp_path, bad) is None, bad


def test_data_docs_served_without_any_external_request():
    path = "2018/T1/v1/validation/data_docs/index.html"
    page = eb_archive.self_contained(PAGE, path)
    up = "../" * 6  # paket/2018/T1/v1/validation/data_docs/ -> /eb-arkiv/
    assert f'href="{up}static/bootstrap/css/bootstrap.min.css"' in page
    assert f'<script src="{up}static/jquery/jquery.min.js"></script>' in page
    assert "https://" not in page and "<img" not in page and "url('https" not in page
    assert "<a>GX</a>" in page  # an external link loses its address, keeps its text
    assert 'href="../static/local.css"' in page  # local files stay


def test_vendored_assets_served_by_name_only():
    css = eb_archive.static_file("bootstrap/css/bootstrap.min.css")
    assert css is not None and css.read_text().startswith("/*!\n * Bootstrap v4.")
    assert eb_archive.static_file("font_awesome/webfonts/fa-solid-900.woff2").is_file()
    for bad in ("../../etc/passwd", "bootstrap/__init__.py", "bootstrap/css", "x"):
        assert eb_archive.static_file(bad) is None, bad


def test_validation_summary_table():
    table = eb_archive.validation_summary([
        {"table": "payment", "rows_read": 7, "rows_accepted": 6, "rows_quarantined": 1, "status": "stopp",
         "critical": ["payment: <regel>"]},
    ])  # fmt: skip
    cells = "<td>payment</td><td>7</td><td>6</td><td>1</td><td>stopp</td><td>payment: &lt;regel&gt;</td>"
    assert cells in table


def test_plugin_app_requires_airflows_login():
    app = eb_archive.create_app()
    assert len(app.router.dependencies) == 1
    plugin = eb_archive.ArchivePlugin
    assert plugin.fastapi_apps[0]["url_prefix"] == "/eb-arkiv"
    assert plugin.external_views[0]["href"] == "eb-arkiv/"
