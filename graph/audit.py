"""``/v1.0/extensions/grove/audit``: the audit trail for admins (a Grove extension;
libre-graph has no audit endpoint).

GET answers chained records in chain order, filtered by time, actor, action
and target prefix, a page at a time: pass the last ``seq`` as ``after`` for
the next page. Only admins may read it.
"""

from __future__ import annotations

import datetime
from typing import Any

import marshmallow as ma

from app import audit
from app.errors import Forbidden
from app.instance import Grove
from graph.api import Blueprint, QuerySchema
from graph.caller import principal

PATH = "/v1.0/extensions/grove/audit"
MAX_TOP = 1000


class AuditQuery(QuerySchema):
    since = ma.fields.AwareDateTime(
        default_timezone=datetime.UTC, metadata={"description": "From this time on"}
    )
    until = ma.fields.AwareDateTime(
        default_timezone=datetime.UTC, metadata={"description": "Before this time"}
    )
    actor = ma.fields.String(metadata={"description": "User name"})
    action = ma.fields.String(metadata={"description": "e.g. file_create"})
    target = ma.fields.String(metadata={"description": "Prefix of the target"})
    after = ma.fields.Integer(
        load_default=0,
        validate=ma.validate.Range(min=0),
        metadata={"description": "Only records after this seq (paging)"},
    )
    top = ma.fields.Integer(
        data_key="$top",
        load_default=100,
        validate=ma.validate.Range(min=1, max=MAX_TOP),
        metadata={"description": f"Records per page (at most {MAX_TOP})"},
    )


class AuditRecord(ma.Schema):
    seq = ma.fields.Integer()
    time = ma.fields.String(metadata={"description": "ISO 8601, UTC"})
    actor = ma.fields.String()
    address = ma.fields.String()
    action = ma.fields.String()
    target = ma.fields.String()
    outcome = ma.fields.String()
    detail = ma.fields.String()
    prev_hash = ma.fields.String()
    hash = ma.fields.String()


class AuditPage(ma.Schema):
    value = ma.fields.List(ma.fields.Nested(AuditRecord))


def _seconds(value: datetime.datetime | None) -> float | None:
    return value.timestamp() if value is not None else None


def create_blueprint(grove: Grove) -> Blueprint:
    blueprint = Blueprint(
        "audit", __name__, description="The audit trail (Grove extension, admins)"
    )

    @blueprint.route(PATH, methods=["GET"])
    @blueprint.arguments(AuditQuery, location="query")
    @blueprint.response(200, AuditPage)
    def listing(args: dict[str, Any]) -> Any:
        """Audit records in chain order, oldest first."""
        if not principal().is_admin:
            raise Forbidden("only admins may read the audit trail")
        records = audit.query(
            since=_seconds(args.get("since")),
            until=_seconds(args.get("until")),
            actor=args.get("actor"),
            action=args.get("action"),
            target=args.get("target"),
            after_seq=args["after"],
            limit=args["top"],
        )
        return {"value": [audit.as_dict(event) for event in records]}

    return blueprint
