"""The upload pipeline's refusals as the API answers them: the same codes as
WebDAV's error bodies (``virusFound`` …), with the matching status."""

from __future__ import annotations

import pytest
from flask import Flask

from app import errors
from graph import errors as graph_errors

REFUSALS = [
    (errors.VirusFound("Eicar-Test-Signature.UNOFFICIAL"), 403, "virusFound"),
    (
        errors.ContentRefused("no .exe", code="blockedExtension"),
        403,
        "blockedExtension",
    ),
    (errors.ContentRefused("no programs", code="blockedType"), 403, "blockedType"),
    (errors.TooLarge("not scanned: over limit"), 413, "tooLarge"),
    (errors.UnsupportedType("a PDF named .jpg"), 415, "unsupportedType"),
    (errors.ScannerUnavailable("try again later"), 503, "scannerUnavailable"),
    (errors.InsufficientStorage("quota"), 507, "quotaLimitReached"),
    (errors.Forbidden("no"), 403, "accessDenied"),
]


@pytest.mark.parametrize(("error", "status", "code"), REFUSALS)
def test_pipeline_refusals_answer_with_their_code(
    error: errors.GroveError, status: int, code: str
) -> None:
    # A bare Flask app with the API's error handlers: no API route runs the
    # pipeline yet (uploads come through the WebDAV and TUS doors).
    web = Flask(__name__)
    graph_errors.register(web)

    @web.route("/upload")
    def upload() -> str:
        raise error

    answer = web.test_client().get("/upload")
    assert answer.status_code == status
    assert answer.json == {"error": {"code": code, "message": str(error)}}
