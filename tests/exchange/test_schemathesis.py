"""schemathesis against the served OpenAPI document: no server error, every error problem+json.

A real ``openbmd exchange serve`` on loopback (SQLite and PostgreSQL); the document is loaded
from its ``/openapi.json``. Every operation gets schema-valid (positive) and schema-violating
(negative) requests; reads of ``GET /v1/messages`` are also sent correctly signed by a partner
so generation reaches past authentication. Asserted for every answer: status < 500; a 4xx is
``application/problem+json`` whose ``status`` is the HTTP status and whose ``type`` is a URI; a
2xx conforms to the response schema in the document.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import response_schema_conformance
from tests.exchange.conftest import KEYS, body, message, setup_db
from tests.exchange.live import LiveServer

from openbmd.exchange.auth import sign_request

POSITIVE = schemathesis.GenerationMode.POSITIVE
EXAMPLES_PER_OPERATION_AND_MODE = 25
SIGNED_READ_EXAMPLES = 40
SEEDED_MESSAGES = 12
PINNED = {
    "GET /v1/log/proof/inclusion": {"tree_size": SEEDED_MESSAGES},
    "GET /v1/log/proof/consistency": {"second": SEEDED_MESSAGES},
}


def content_type(resp: Any) -> str:
    """The Content-Type of a schemathesis Response (headers map to lists of values)."""
    for name, values in resp.headers.items():
        if name.lower() == "content-type":
            return str(values[0] if isinstance(values, list) else values)
    return ""


def check_answer(case: Any, resp: Any, failures: list[str]) -> None:
    """Record what is wrong with *resp* (the answer to *case*) in *failures*."""
    where = f"{case.method} {case.formatted_path} query={case.query!r} -> {resp.status_code}"
    if resp.status_code >= 500:
        failures.append(f"server error: {where}: {resp.text[:300]}")
        return
    if resp.status_code >= 400:
        ctype = content_type(resp)
        if not ctype.startswith("application/problem+json"):
            failures.append(f"not problem+json ({ctype!r}): {where}: {resp.text[:200]}")
            return
        doc = resp.json()
        if doc.get("status") != resp.status_code or not str(doc.get("type", "")).startswith(
            "https://"
        ):
            failures.append(f"bad problem document: {where}: {doc}")
        return
    try:
        case.validate_response(resp, checks=[response_schema_conformance])
    except FailureGroup as exc:
        failures.append(f"2xx does not conform: {where}: {str(exc)[:500]}")


HYPOTHESIS = settings(
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)


def fuzz(
    op: Any,
    mode: Any,
    url: str,
    failures: list[str],
    counts: dict[str, int],
    query: dict[str, Any] | None = None,
) -> None:
    """Send *op*'s generated requests of *mode* (*query* pinned) to *url*; check every answer."""

    @settings(HYPOTHESIS, max_examples=EXAMPLES_PER_OPERATION_AND_MODE)
    @given(case=op.as_strategy(generation_mode=mode, query=query))
    def run(case: Any) -> None:
        resp = case.call(base_url=url, timeout=10)
        key = f"{op.label} {resp.status_code // 100}xx"
        counts[key] = counts.get(key, 0) + 1
        check_answer(case, resp, failures)

    try:
        run()
    except Unsatisfiable:
        # nothing to violate: an operation without parameters or body has no negative cases
        assert mode == schemathesis.GenerationMode.NEGATIVE, op.label
        assert not op.query and not op.body and not op.path_parameters, op.label


def fuzz_signed(op: Any, url: str, failures: list[str], counts: dict[str, int]) -> None:
    """Like :func:`fuzz` (positive cases), each request correctly signed by a partner."""

    @settings(HYPOTHESIS, max_examples=SIGNED_READ_EXAMPLES)
    @given(case=op.as_strategy(), partner=st.sampled_from(sorted(KEYS)))
    def run(case: Any, partner: str) -> None:
        case.query = {k: v for k, v in (case.query or {}).items() if v is not None}
        headers = sign_request(KEYS[partner], partner, "GET", op.path, case.query)
        resp = case.call(base_url=url, headers=headers, timeout=10)
        key = f"signed {op.label} {resp.status_code // 100}xx"
        counts[key] = counts.get(key, 0) + 1
        check_answer(case, resp, failures)

    run()


@pytest.mark.slow
def test_schemathesis_no_server_errors_all_problem_json(db_url: str, tmp_path: Path) -> None:
    setup_db(db_url)
    failures: list[str] = []
    counts: dict[str, int] = {}
    with LiveServer(db_url, tmp_path / "serve.log") as server:
        with httpx.Client(base_url=server.url, timeout=10) as http:  # a log to read proofs of
            for _ in range(SEEDED_MESSAGES):
                m = message()
                r = http.post("/v1/messages", json=body(m), headers={"X-OpenBMD-Partner": "alpha"})
                assert r.status_code == 201, r.text
        schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json")
        operations = [r.ok() for r in schema.get_all_operations()]
        assert len(operations) >= 8, [op.label for op in operations]
        for op in operations:
            for mode in (POSITIVE, schemathesis.GenerationMode.NEGATIVE):
                fuzz(op, mode, server.url, failures, counts)
            if op.label in PINNED:  # also within the seeded tree, where proofs exist
                fuzz(op, POSITIVE, server.url, failures, counts, PINNED[op.label])
        for op in operations:
            if op.label in ("GET /v1/messages", "GET /v1/agreements", "GET /v1/log/entries"):
                fuzz_signed(op, server.url, failures, counts)
        assert server.proc is not None and server.proc.poll() is None, server.tail()
    assert not failures, "\n".join(failures[:20])
    for label in ("proof/inclusion", "proof/consistency"):  # generation got through
        assert counts.get(f"GET /v1/log/{label} 2xx", 0) > 0, counts
    assert counts.get("signed GET /v1/log/entries 2xx", 0) > 0, counts  # a signed read (12.2)
    assert counts.get("signed GET /v1/messages 2xx", 0) > 0, counts
