"""Issue 12.10: what a new user hit. The README's ``serve`` line and the quickstart agree on the
database; the quickstart's commands work in order (each example sendable by its sender, the
acknowledgement by the partner it answers); ``inbox`` reads and checks what was sent."""

from __future__ import annotations

import json
import re
import shlex
import warnings
from pathlib import Path
from typing import Any

import httpx
import pytest

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=".*httpx2.*")
    from starlette.testclient import TestClient

from openbmd.cli import main
from openbmd.exchange.app import create_app
from openbmd.exchange.client import submit_message
from openbmd.exchange.settings import Settings
from openbmd.exchange.verify import read_inbox

README = Path(__file__).resolve().parents[2] / "README.md"


def _quickstart(capsys: Any, directory: str) -> dict[str, Any]:
    assert main(["exchange", "quickstart", directory, "--json"]) == 0
    doc: dict[str, Any] = json.loads(capsys.readouterr().out)
    return doc


def _sqlite_file(url: str) -> Path:
    return Path(url.removeprefix("sqlite:///")).resolve()


def test_readme_serve_line_uses_the_quickstart_database(
    tmp_path: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = README.read_text("utf-8")
    quick = re.search(r"openbmd exchange quickstart (\S+)", text)
    serve = re.search(r"openbmd exchange serve --database-url (\S+)", text)
    assert quick and serve
    monkeypatch.chdir(tmp_path)
    qs = _quickstart(capsys, quick.group(1))
    assert _sqlite_file(serve.group(1)) == _sqlite_file(qs["database_url"])
    serve_step = shlex.split(qs["next_commands"][0])
    assert serve_step[:3] == ["openbmd", "exchange", "serve"]
    assert serve_step[serve_step.index("--database-url") + 1] == qs["database_url"]


def test_quickstart_examples_are_sendable_and_the_inbox_verifies(
    tmp_path: Path, capsys: Any
) -> None:
    qs = _quickstart(capsys, str(tmp_path / "demo"))
    keys = {p["name"]: p["key_file"] for p in qs["partners"]}
    ack = next(e for e in qs["examples"] if e.endswith("ack.json"))
    assert json.loads(Path(ack).read_text())["sender"] == "bravo"
    with TestClient(create_app(Settings(database_url=qs["database_url"]))) as tc:
        url = str(tc.base_url)
        for example in sorted(qs["examples"]):
            payload = json.loads(Path(example).read_text())
            sender = payload["sender"]
            submit_message(url, sender, keys[sender], payload, client=tc)
        items = read_inbox(url, "bravo", keys["bravo"], client=tc)
        assert len(items) == len(qs["examples"]) == 8  # one per message type
        assert {i["signature_ok"] for i in items if i["level"] in ("L3", "own")} == {True}
        assert [i["type"] for i in items if i["level"] == "own"] == ["ack"]

        def tamper(request: httpx.Request) -> httpx.Response:
            answer = tc.request(request.method, str(request.url), headers=request.headers)
            if request.url.path != "/v1/messages":
                return httpx.Response(answer.status_code, content=answer.content)
            doc = answer.json()
            for item in doc["items"]:
                if item["level"] == "own":
                    item["message"]["detail"] = "edited by the operator"
            return httpx.Response(200, json=doc)

        with httpx.Client(transport=httpx.MockTransport(tamper), base_url=url) as http:
            edited = read_inbox(url, "bravo", keys["bravo"], client=http)
        assert [i["signature_ok"] for i in edited if i["level"] == "own"] == [False]
