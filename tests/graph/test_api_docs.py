"""docs/api.md stays true: its role table is the one app/roles.py and the
permission letters give, and every field the user and group schemas refuse as
notSupported is listed there."""

from __future__ import annotations

import re
from pathlib import Path

from app import acl, roles
from graph import groups, users

DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"
WHERE = {roles.ROOT: "drive root", roles.FOLDER: "folder", roles.FILE: "file"}


def _letters(role: roles.Role, *, is_dir: bool) -> str:
    """The letters on a folder or file reached through ``role`` (— where the
    role cannot be granted or shows nothing)."""
    applies = roles.ROOT in role.conditions or roles.FOLDER in role.conditions
    if not is_dir:
        applies = applies or roles.FILE in role.conditions
    if role is roles.DENIED or not applies:
        return "—"
    shared = roles.ROOT not in role.conditions
    letters = acl.oc_letters(role.perms, is_dir=is_dir, shared=shared)
    return f"`{letters}`" if letters else "(none)"


def role_rows() -> list[str]:
    return [
        f"| `{role.id}` | {role.name} | {role.display_name} | "
        + ", ".join(WHERE[condition] for condition in role.conditions)
        + f" | {_letters(role, is_dir=True)} | {_letters(role, is_dir=False)} |"
        for role in roles.ALL
    ]


def test_the_role_table_is_the_code_s() -> None:
    text = DOC.read_text(encoding="utf-8")
    documented = [line for line in text.splitlines() if line.startswith("| `")]
    role_lines = [line for line in documented if line.split("`")[1] in roles.BY_ID]

    assert role_lines == role_rows()


def test_every_refused_field_is_listed_as_not_supported() -> None:
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## Not supported", 1)[1].split("\n## ", 1)[0]
    refused = (
        users.UserUpdate.NOT_SUPPORTED
        | users.UNSUPPORTED_SELECT
        | users.UNSUPPORTED_EXPAND
        | users.PasswordProfile.NOT_SUPPORTED
        | groups.GroupUpdate.NOT_SUPPORTED
        | groups.UNSUPPORTED_SELECT
    )

    missing = sorted(
        n for n in refused if not re.search(rf"\b{re.escape(n)}\b", section)
    )

    assert missing == []
