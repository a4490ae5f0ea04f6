"""``/dashboard`` (issue 13.4): the page's files, its security headers, its log summary, and
that a non-editable install ships them (the page itself is driven in tests/browser)."""

from __future__ import annotations

import fnmatch
import json
import re
import tomllib
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import pytest
from starlette.testclient import TestClient
from tests.exchange.conftest import KEYS, problem_slug, setup_db

from openbmd.exchange.app import create_app
from openbmd.exchange.note import cosign_checkpoint
from openbmd.exchange.routers.dashboard import ASSETS, CSP
from openbmd.exchange.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    """A started centre on SQLite (the routes serve files: one backend is enough)."""
    url = f"sqlite:///{tmp_path / 'exchange.db'}"
    setup_db(url)
    with TestClient(create_app(Settings(database_url=url))) as c:
        yield c


def test_page_and_assets_carry_a_strict_policy(client: TestClient) -> None:
    for name in ASSETS:
        r = client.get(f"/dashboard/{name}" if name else "/dashboard")
        assert r.status_code == 200, name
        assert r.headers["content-security-policy"] == CSP
        assert r.headers["referrer-policy"] == "no-referrer"
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["content-type"].startswith(ASSETS[name][2].split(";")[0])
    directives = dict(d.strip().split(" ", 1) for d in CSP.split(";"))
    assert directives["default-src"] == "'self'" and directives["script-src"] == "'self'"
    assert "unsafe" not in CSP and "http" not in CSP  # no inline code, no other origin


def test_page_has_no_inline_script_style_or_external_reference(client: TestClient) -> None:
    html = client.get("/dashboard").text
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
    assert scripts and all(
        'src="/dashboard/' in attrs and not text.strip() for attrs, text in scripts
    )
    assert " style=" not in html and "<style" not in html and " on" not in html.replace("\n", " ")
    for name in ("", "dashboard.js", "geo.js", "signin.js", "dashboard.css"):
        text = client.get(f"/dashboard/{name}" if name else "/dashboard").text
        urls = re.findall(r"(?:https?:)?//[A-Za-z0-9.-]+\.[a-z]{2,}[^\s\"'`]*", text)
        assert [u for u in urls if u != "http://www.w3.org/2000/svg"] == [], (
            name
        )  # the SVG namespace: a name, not a request


def test_outlines_are_the_bundled_natural_earth_file(client: TestClient) -> None:
    r = client.get("/dashboard/countries.json")
    bundled = resources.files("openbmd").joinpath("data/countries-110m.json").read_bytes()
    assert r.content == bundled
    assert len(r.json()["objects"]["countries"]["geometries"]) > 150


def test_unknown_file_is_a_problem_404(client: TestClient) -> None:
    for name in ("nope.js", "..%2Fapp.py", "web%2Fdashboard.js"):
        r = client.get(f"/dashboard/{name}")
        assert r.status_code == 404 and problem_slug(r) == "not-found", name


def test_log_summary_has_the_latest_and_the_cosigned_checkpoint(client: TestClient) -> None:
    doc = client.get("/dashboard/log.json").json()
    assert doc["checkpoint"] == client.get("/v1/log/checkpoint").text
    assert doc["cosigned"] is None  # no witness yet: null, not a 404 the browser would log
    name = doc["centre_key_name"]
    assert f"\n— {name} " in doc["checkpoint"]
    body = doc["checkpoint"].split("\n\n")[0] + "\n"
    line = cosign_checkpoint(body, "bravo", KEYS["bravo"], 1_700_000_000)
    r = client.post("/v1/log/cosignatures", content=(body + "\n" + line).encode())
    assert r.status_code == 201, r.text
    doc = client.get("/dashboard/log.json").json()
    assert doc["cosigned"] == client.get("/v1/log/checkpoint/cosigned").text
    assert line.strip() in doc["cosigned"]


def test_dashboard_is_not_in_the_openapi_document(client: TestClient) -> None:
    paths = json.loads(client.get("/openapi.json").text)["paths"]
    assert not [p for p in paths if p.startswith("/dashboard")]


def test_every_served_file_is_package_data() -> None:
    """A non-editable install ships each file: it matches a package-data pattern."""
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"
    ]["openbmd"]
    for package, path, _ in ASSETS.values():
        rel = f"{package.removeprefix('openbmd').strip('.').replace('.', '/')}/{path}".lstrip("/")
        assert any(fnmatch.fnmatch(rel, p) for p in patterns), rel
        assert resources.files(package).joinpath(path).is_file(), rel
