"""The libre-graph unified roles: fixed ids (clients store them), their actions,
where each applies, and the permission set each grants.

Ids, names and action names are OpenCloud's; the permission sets are Grove's
reading of those actions (app.acl.Perm).
"""

from __future__ import annotations

import dataclasses

from app.perms import Perm

_A = "libre.graph/driveItem/"

# Conditions, string-matched as the libre-graph document writes them.
ROOT = "exists @Resource.Root"
FOLDER = "exists @Resource.Folder"
FILE = "exists @Resource.File"

_READ = ("basic/read", "path/read", "quota/read", "content/read", "children/read")
_LIST_GRANTS = ("permissions/read",)
_EDIT_FILE = ("upload/create", "path/update")
_EDIT_FOLDER = (
    "upload/create",
    "path/update",
    "children/create",
    "standard/delete",
    "deleted/read",
    "deleted/update",
)
_VERSIONS = ("versions/read", "versions/update")
_MANAGE = (
    "permissions/create",
    "permissions/read",
    "permissions/update",
    "permissions/delete",
    "deleted/delete",
)


@dataclasses.dataclass(frozen=True)
class Role:
    id: str
    name: str  # OpenCloud's internal name, used in Grove's config and CLI
    display_name: str
    description: str
    conditions: tuple[str, ...]  # where it may be granted
    actions: tuple[str, ...]  # without the libre.graph/driveItem/ prefix
    weight: int

    @property
    def perms(self) -> Perm:
        return _perms(self.actions)

    def applies_to(self, *, is_root: bool, is_dir: bool) -> bool:
        if is_root:
            return ROOT in self.conditions
        return (FOLDER if is_dir else FILE) in self.conditions

    def graph(self) -> dict[str, object]:
        """The ``unifiedRoleDefinition`` object."""
        return {
            "id": self.id,
            "displayName": self.display_name,
            "description": self.description,
            "@libre.graph.weight": self.weight,
            "rolePermissions": [
                {
                    "allowedResourceActions": [_A + a for a in self.actions],
                    "condition": condition,
                }
                for condition in self.conditions
            ],
        }


def _perms(actions: tuple[str, ...]) -> Perm:
    perms = Perm.NONE
    for action, perm in _ACTION_PERMS.items():
        if action in actions:
            perms |= perm
    return perms


def actions_allowed(perms: Perm) -> list[str]:
    """The ``libre.graph/driveItem/...`` actions a holder of ``perms`` may take."""
    return [
        _A + action
        for action, perm in _ACTION_PERMS.items()
        if perm != Perm.NONE and perm in perms
    ]


_ACTION_PERMS: dict[str, Perm] = {
    "basic/read": Perm.STAT,
    "content/read": Perm.READ,
    "children/read": Perm.LIST,
    "upload/create": Perm.WRITE | Perm.CREATE,
    "children/create": Perm.CREATE,
    "standard/delete": Perm.DELETE,
    "path/update": Perm.RENAME,
    "permissions/create": Perm.SHARE,
    "permissions/read": Perm.LIST_GRANTS,
    "permissions/update": Perm.MANAGE,
    "permissions/delete": Perm.MANAGE,
    "versions/read": Perm.VERSIONS,
    "versions/update": Perm.VERSIONS_RESTORE,
    "deleted/read": Perm.TRASH,
    "deleted/update": Perm.TRASH_RESTORE,
    "deleted/delete": Perm.TRASH_PURGE,
}

VIEWER = Role(
    "b1e2218d-eef8-4d4c-b82d-0f1a1b48f3b5",
    "Viewer",
    "Can view",
    "View and download.",
    (FILE, FOLDER),
    _READ,
    1,
)
VIEWER_LIST_GRANTS = Role(
    "d5041006-ebb3-4b4a-b6a4-7c180ecfb17d",
    "ViewerListGrants",
    "Can view",
    "View, download and show all invited people.",
    (FILE, FOLDER),
    _READ + _LIST_GRANTS,
    2,
)
SPACE_VIEWER = Role(
    "a8d5fe5e-96e3-418d-825b-534dbdf22b99",
    "SpaceViewer",
    "Can view",
    "View and download.",
    (ROOT,),
    _READ + ("deleted/read",),
    1,
)
EDITOR = Role(
    "fb6c3e19-e378-47e5-b277-9732f9de6e21",
    "Editor",
    "Can edit",
    "View, download, upload, edit, add and delete.",
    (FOLDER,),
    _READ + _EDIT_FOLDER,
    3,
)
EDITOR_LIST_GRANTS = Role(
    "e8ea8b21-abd4-45d2-b893-8d1546378e9e",
    "EditorListGrants",
    "Can edit",
    "View, download, upload, edit, add, delete and show all invited people.",
    (FOLDER,),
    _READ + _EDIT_FOLDER + _LIST_GRANTS,
    4,
)
SPACE_EDITOR = Role(
    "58c63c02-1d89-4572-916a-870abc5a1b7d",
    "SpaceEditor",
    "Can edit",
    "View, download, upload, edit, add, delete including the history.",
    (ROOT,),
    _READ + _EDIT_FOLDER + _VERSIONS,
    3,
)
SPACE_EDITOR_WITHOUT_VERSIONS = Role(
    "3284f2d5-0070-4ad8-ac40-c247f7c1fb27",
    "SpaceEditorWithoutVersions",
    "Can edit without versions",
    "View, download, upload, edit, add and delete.",
    (ROOT,),
    _READ + _EDIT_FOLDER,
    2,
)
FILE_EDITOR = Role(
    "2d00ce52-1fc2-4dbc-8b95-a73b73395f5a",
    "FileEditor",
    "Can edit",
    "View, download and edit.",
    (FILE,),
    _READ + _EDIT_FILE + _VERSIONS,
    2,
)
FILE_EDITOR_LIST_GRANTS = Role(
    "c1235aea-d106-42db-8458-7d5610fb0a67",
    "FileEditorListGrants",
    "Can edit",
    "View, download, edit and show all invited people.",
    (FILE,),
    _READ + _EDIT_FILE + _VERSIONS + _LIST_GRANTS,
    3,
)
EDITOR_LITE = Role(
    "1c996275-f1c9-4e71-abdf-a42f6495e960",
    "EditorLite",
    "Can upload",
    "View and upload.",
    (FOLDER,),
    ("basic/read", "path/read", "upload/create", "children/create"),
    1,
)
MANAGER = Role(
    "312c0871-5ef7-4b3a-85b6-0e4074c64049",
    "Manager",
    "Can manage",
    "View, download, upload, edit, add, delete and manage members.",
    (ROOT,),
    _READ + _EDIT_FOLDER + _VERSIONS + _MANAGE,
    4,
)
SECURE_VIEWER = Role(
    "aa97fe03-7980-45ac-9e50-b325749fd7e6",
    "SecureViewer",
    "Can view (secure)",
    "View only documents, images and PDFs. Watermarks will be applied.",
    (FILE, FOLDER),
    ("basic/read", "path/read", "children/read"),
    1,
)
DENIED = Role(
    "63e64e19-8d43-42ec-a738-2b6af2610efa",
    "Denied",
    "Cannot access",
    "Deny all access.",
    (FOLDER,),
    (),
    0,
)

ALL: tuple[Role, ...] = (
    VIEWER,
    VIEWER_LIST_GRANTS,
    SPACE_VIEWER,
    EDITOR,
    EDITOR_LIST_GRANTS,
    SPACE_EDITOR,
    SPACE_EDITOR_WITHOUT_VERSIONS,
    FILE_EDITOR,
    FILE_EDITOR_LIST_GRANTS,
    EDITOR_LITE,
    MANAGER,
    SECURE_VIEWER,
    DENIED,
)
BY_ID: dict[str, Role] = {role.id: role for role in ALL}
BY_NAME: dict[str, Role] = {role.name.lower(): role for role in ALL}
# The roles a space root may carry for its members.
SPACE_ROLES = (MANAGER, SPACE_EDITOR, SPACE_EDITOR_WITHOUT_VERSIONS, SPACE_VIEWER)


_SEE = Perm.READ | Perm.LIST | Perm.STAT
# Public link types (libre-graph sharingLinkType) and what anyone holding the
# link may do; a link grant has no unified role.
LINK_PERMS: dict[str, Perm] = {
    "internal": Perm.NONE,  # only who has access already: it opens nothing
    "view": _SEE,
    "upload": _SEE | Perm.CREATE | Perm.WRITE,
    "edit": _SEE | Perm.CREATE | Perm.WRITE | Perm.DELETE | Perm.RENAME,
    "createOnly": Perm.STAT | Perm.CREATE,  # file drop: no listing, no download
    "blocksDownload": Perm.LIST | Perm.STAT,  # secure view: no download
}
# Link types that only make sense on a folder.
FOLDER_LINKS = frozenset({"upload", "createOnly"})


def get(value: str) -> Role | None:
    """A role by unified id or by name (any case)."""
    return BY_ID.get(value) or BY_NAME.get(value.lower())
