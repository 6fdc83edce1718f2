"""Data Docs that need no network: GX's CDN links replaced by vendored, pinned copies.

GX's Data Docs templates load Bootstrap, jQuery, Popper and Font Awesome from public CDNs: an
offline server shows the pages unstyled, and an online one tells third parties who reads the
report. The same files come from pinned PyPI packages (XStatic-*, see pyproject.toml), are
copied into the site's ``static/vendor/`` (so an archived package is self-contained) and every
CDN link is rewritten to its copy. The nearest packaged versions stand in where PyPI lacks GX's
exact one (Bootstrap 4.5.3 for 4.3.1, Font Awesome 6.2.1 for 6.6.0: same major version, same
classes GX uses); Popper is inside Bootstrap's bundle. Whatever else points off the machine
(bootstrap-table and the date picker of GX's index filter, Vega for charts we do not render,
the dark theme, the GX logo, links to GX's website) is dropped: the site's own static index lists
every page without scripts.
"""

from __future__ import annotations

import re
import shutil
from importlib.util import find_spec
from pathlib import Path

VENDOR_DIR = "static/vendor"
# GX's CDN address -> (XStatic package, file in its data folder); None: dropped.
ASSETS: dict[str, tuple[str, str] | None] = {
    "https://code.jquery.com/jquery-3.7.1.min.js": ("jquery", "jquery.min.js"),
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": (
        "bootstrap",
        "css/bootstrap.min.css",
    ),
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": (
        "bootstrap",
        "js/bootstrap.bundle.min.js",
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js": None,  # in the bundle
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css": (
        "font_awesome",
        "css/all.min.css",
    ),
}
# Files a vendored stylesheet loads itself (relative to it), copied beside it.
COMPANIONS = {("font_awesome", "css/all.min.css"): ["webfonts/*.woff2", "webfonts/*.ttf"]}

_EXTERNAL = r"(?:https?:)?//[^\"'\s>]*"
_URL_ATTR = re.compile(r"\b(src|href)=([\"'])(" + _EXTERNAL + r")\2", re.IGNORECASE)
_EXTERNAL_TAG = re.compile(
    r"<script\b[^>]*\bsrc=[\"']" + _EXTERNAL + r"[\"'][^>]*>\s*</script>"
    r"|<(?:link|img|iframe|source)\b[^>]*\b(?:href|src)=[\"']" + _EXTERNAL + r"[\"'][^>]*>",
    re.IGNORECASE,
)
_EXTERNAL_ANCHOR = re.compile(r"(<a\b[^>]*?)\s+href=([\"'])" + _EXTERNAL + r"\2", re.IGNORECASE)
_EXTERNAL_CSS_URL = re.compile(r"url\(\s*['\"]?" + _EXTERNAL + r"['\"]?\s*\)", re.IGNORECASE)
_EXTERNAL_IMPORT = re.compile(r"@import\s+(?:url\()?['\"]?" + _EXTERNAL + r"[^;]*;", re.IGNORECASE)


def package_dir(package: str) -> Path:
    """The data folder of an installed XStatic package (found, not imported)."""
    spec = find_spec(f"xstatic.pkg.{package}")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"Paketet XStatic för {package} saknas: installera beroendena (make install).")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def local_name(package: str, file: str) -> str:
    """Where a vendored file lives below the site's (or the plugin's) vendor folder."""
    return f"{package}/{file}"


def vendored_files() -> dict[str, Path]:
    """Every file to vendor: local name -> installed file (stylesheets with what they load)."""
    files: dict[str, Path] = {}
    for asset in filter(None, ASSETS.values()):
        package, file = asset
        base = package_dir(package)
        files[local_name(package, file)] = base / file
        for pattern in COMPANIONS.get(asset, []):
            for extra in sorted(base.glob(pattern)):
                files[local_name(package, extra.relative_to(base).as_posix())] = extra
    return files


def localise(page: str, prefix: str) -> str:
    """``page`` with GX's CDN links pointing at ``prefix`` + local name, all else external dropped.

    External anchors lose their ``href`` (their text stays): not a request, but a page that
    never leaves the machine should not invite a click that does either.
    """

    def swap(match: re.Match) -> str:
        attr, quote, url = match.groups()
        asset = ASSETS.get(url)
        if asset is None:
            return match.group(0)  # unknown or dropped: removed below with its tag
        return f"{attr}={quote}{prefix}{local_name(*asset)}{quote}"

    page = _URL_ATTR.sub(swap, page)
    page = _EXTERNAL_TAG.sub("", page)
    page = _EXTERNAL_ANCHOR.sub(r"\1", page)
    page = _EXTERNAL_IMPORT.sub("", page)
    return _EXTERNAL_CSS_URL.sub("none", page)


def make_offline(site: Path) -> None:
    """Vendor the assets into ``site/static/vendor`` and rewrite every page and stylesheet."""
    vendor = site / VENDOR_DIR
    for name, source in vendored_files().items():
        target = vendor / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    for page in site.rglob("*.html"):
        depth = len(page.relative_to(site).parts) - 1
        prefix = "../" * depth + VENDOR_DIR + "/"
        text = page.read_text(encoding="utf-8")
        offline = localise(text, prefix)
        if offline != text:
            page.write_text(offline, encoding="utf-8")
    for sheet in site.rglob("*.css"):
        if vendor in sheet.parents:
            continue
        text = sheet.read_text(encoding="utf-8")
        offline = _EXTERNAL_IMPORT.sub("", _EXTERNAL_CSS_URL.sub("none", text))
        if offline != text:
            sheet.write_text(offline, encoding="utf-8")


def external_references(text: str) -> list[str]:
    """Every ``src``/``href``/``url()`` in ``text`` that points off the machine (for checks)."""
    found = [m.group(3) for m in _URL_ATTR.finditer(text)]
    found += [m.group(0) for m in _EXTERNAL_CSS_URL.finditer(text)]
    return found
