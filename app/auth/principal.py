"""The authenticated caller as the rest of the core sees it."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Principal:
    user_id: str
    name: str
    is_admin: bool = False
