"""The API keeps to its own document: schemathesis generates requests from
/graph/openapi.json for every operation and sends them to a running Grove as
an admin; no answer may be a 5xx, and none may contradict the document
(status code, content type, body).

Bounded: a few examples per operation, so the suite stays fast.
"""

from __future__ import annotations

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import Case
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import LiveServer

EXAMPLES = 4
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def _exercise(operation: schemathesis.APIOperation, session, base_url: str) -> None:
    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Case) -> None:
        answer = case.call_and_validate(
            base_url=base_url, session=session, checks=CHECKS
        )
        # The caller stays signed in: a 401 or 429 would hide what was tested.
        assert answer.status_code not in (401, 429), answer.text

    run()


def operations(live: LiveServer) -> list[schemathesis.APIOperation]:
    schema = schemathesis.openapi.from_url(f"{live.url}/graph/openapi.json")
    return [result.ok() for result in schema.get_all_operations()]


@pytest.mark.slow
def test_every_operation_keeps_to_the_document(live: LiveServer) -> None:
    # A Bearer token: the fuzzer may change the admin's name and password
    # without locking itself out.
    made = live.session("admin", "admin-password-1").post(f"{live.url}/auth-app/tokens")
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {made.json()['token']}"
    found = operations(live)
    failures: dict[str, str] = {}

    for operation in found:
        try:
            _exercise(operation, session, live.url)
        except AssertionError as failure:
            failures[operation.label] = str(failure)[:1500]

    assert len(found) > 30
    assert failures == {}
