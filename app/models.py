"""Database tables, portable between SQLite and PostgreSQL.

The file tree is stored as parent id + name: a folder move touches one row.
"""

from __future__ import annotations

import time

import peewee

from app.db import database


def now() -> float:
    return time.time()


class BaseModel(peewee.Model):
    class Meta:
        database = database
        legacy_table_names = False


class Meta(BaseModel):
    """Instance-wide facts: schema version, storage id."""

    key = peewee.CharField(primary_key=True, max_length=64)
    value = peewee.TextField()


class User(BaseModel):
    id = peewee.CharField(primary_key=True, max_length=36)
    name = peewee.CharField(unique=True, max_length=255)
    display_name = peewee.CharField(max_length=255)
    password_hash = peewee.TextField()
    is_admin = peewee.BooleanField(default=False)
    # Raised on every password change: cached credentials of an older
    # generation are refused, on every worker.
    credential_generation = peewee.IntegerField(default=0)
    created = peewee.FloatField(default=now)
    mail = peewee.CharField(max_length=255, default="")
    # A disabled account keeps its files and shares but cannot sign in.
    account_enabled = peewee.BooleanField(default=True)
    preferred_language = peewee.CharField(max_length=16, default="")
    # The space-admin role (OpenCloud's "Space Admin"): may create project spaces.
    space_admin = peewee.BooleanField(default=False)


class Space(BaseModel):
    id = peewee.CharField(primary_key=True, max_length=36)
    kind = peewee.CharField(max_length=16)  # personal | project
    owner = peewee.ForeignKeyField(User, null=True, on_delete="CASCADE")
    name = peewee.CharField(max_length=255)
    # Relative to <data>/storage, fixed at creation: renames change `name` only.
    folder = peewee.CharField(unique=True, max_length=600)
    created = peewee.FloatField(default=now)
    description = peewee.TextField(default="")
    # Bytes; None: no limit of its own (the configured default applies).
    quota_total = peewee.BigIntegerField(null=True)
    # When the space was disabled (soft-deleted); None while it is in use.
    disabled = peewee.FloatField(null=True)
    created_by = peewee.CharField(max_length=36, default="")

    owner_id: str | None  # peewee's accessor for the owner column


class Node(BaseModel):
    """A file or folder Grove has seen; its id also lives in ``user.grove.id``."""

    id = peewee.CharField(primary_key=True, max_length=36)
    space = peewee.ForeignKeyField(Space, on_delete="CASCADE")
    space_id: str  # peewee's accessor for the space column
    parent_id = peewee.CharField(max_length=36, null=True)
    name = peewee.TextField()
    is_dir = peewee.BooleanField()
    inode = peewee.BigIntegerField(default=0)
    size = peewee.BigIntegerField(default=0)
    mtime_ns = peewee.BigIntegerField(default=0)
    # SHA1 of the content, valid only while `checksum_stamp` matches the file.
    sha1 = peewee.CharField(max_length=40, null=True)
    checksum_stamp = peewee.CharField(max_length=80, null=True)
    # Folders: raised by every change below, up to the space root.
    tree_mtime_ns = peewee.BigIntegerField(default=0)
    tree_size = peewee.BigIntegerField(default=0)
    # Detected from the content (libmagic), valid while `checksum_stamp` matches.
    mime = peewee.CharField(max_length=255, null=True)

    class Meta:
        indexes = ((("parent_id", "name"), False),)


class DeadProperty(BaseModel):
    """Dead properties too large for extended attributes, keyed by node id."""

    node_id = peewee.CharField(max_length=36, index=True)
    name = peewee.TextField()
    value = peewee.TextField()

    class Meta:
        primary_key = peewee.CompositeKey("node_id", "name")


class Lock(BaseModel):
    token = peewee.CharField(primary_key=True, max_length=100)
    root = peewee.TextField(index=True)  # canonical /<space-id>/<path>
    scope = peewee.CharField(max_length=16)
    depth = peewee.CharField(max_length=16)
    type = peewee.CharField(max_length=16, default="write")
    owner = peewee.TextField(default="")
    principal = peewee.CharField(max_length=255)
    timeout = peewee.FloatField()
    expire = peewee.FloatField(index=True)


class AuditEvent(BaseModel):
    time = peewee.FloatField(default=now, index=True)
    actor = peewee.CharField(max_length=255, default="")
    address = peewee.CharField(max_length=64, default="")
    action = peewee.CharField(max_length=64, index=True)
    target = peewee.TextField(default="")
    outcome = peewee.CharField(max_length=32, default="ok")
    detail = peewee.TextField(default="")
    # The hash chain: None while queued; the chain writer sets all three.
    seq = peewee.BigIntegerField(null=True, unique=True)
    prev_hash = peewee.CharField(max_length=64, null=True)
    hash = peewee.CharField(max_length=64, null=True)


class AppToken(BaseModel):
    """A credential for WebDAV clients and scripts; only its hash is stored."""

    id = peewee.CharField(primary_key=True, max_length=32)  # shown as identifier
    user = peewee.ForeignKeyField(User, on_delete="CASCADE")
    secret_hash = peewee.CharField(max_length=64)  # SHA-256 of the secret part
    label = peewee.CharField(max_length=255, default="")
    scope = peewee.CharField(max_length=16, default="full")  # full | read-only
    created = peewee.FloatField(default=now)
    expires = peewee.FloatField(null=True)
    last_used = peewee.FloatField(null=True)

    user_id: str  # peewee's accessor for the user column


class SignInFailures(BaseModel):
    """Failed sign-ins counted per ``account:<id>`` or ``address:<ip>`` key, so
    that the count holds across workers."""

    key = peewee.CharField(primary_key=True, max_length=300)
    failures = peewee.IntegerField(default=0)
    window_start = peewee.FloatField(default=now)
    blocked_until = peewee.FloatField(default=0)
    strikes = peewee.IntegerField(default=0)  # refusals in a row: doubles the next


class TrustedAddress(BaseModel):
    """An address that signed in to an account: exempt from its throttling."""

    user = peewee.ForeignKeyField(User, on_delete="CASCADE")
    address = peewee.CharField(max_length=64)
    last_success = peewee.FloatField(default=now)

    class Meta:
        primary_key = peewee.CompositeKey("user", "address")


class TotpSecret(BaseModel):
    """A user's TOTP seed, sealed under the master key (see app.keys)."""

    user = peewee.ForeignKeyField(User, primary_key=True, on_delete="CASCADE")
    seed = peewee.TextField()
    enabled = peewee.BooleanField(default=False)  # False: enrolment pending
    # The newest time step a code was accepted for: no code is accepted twice.
    last_step = peewee.BigIntegerField(default=0)
    created = peewee.FloatField(default=now)

    user_id: str


class RecoveryCode(BaseModel):
    """One-time recovery codes for TOTP, stored only as hashes."""

    user = peewee.ForeignKeyField(User, on_delete="CASCADE", index=True)
    code_hash = peewee.CharField(max_length=64)


class Session(BaseModel):
    """A browser or API session made by /signin; the cookie's secret is hashed."""

    id = peewee.CharField(primary_key=True, max_length=32)  # shown in listings
    user = peewee.ForeignKeyField(User, on_delete="CASCADE", index=True)
    secret_hash = peewee.CharField(max_length=64)
    scope = peewee.CharField(max_length=16, default="full")  # full | enrolment
    created = peewee.FloatField(default=now)
    last_seen = peewee.FloatField(default=now)
    address = peewee.CharField(max_length=64, default="")
    user_agent = peewee.CharField(max_length=255, default="")

    user_id: str


class Group(BaseModel):
    id = peewee.CharField(primary_key=True, max_length=36)
    name = peewee.CharField(unique=True, max_length=255)  # displayName
    description = peewee.TextField(default="")
    created = peewee.FloatField(default=now)


class GroupMember(BaseModel):
    group = peewee.ForeignKeyField(Group, on_delete="CASCADE")
    user = peewee.ForeignKeyField(User, on_delete="CASCADE", index=True)

    group_id: str
    user_id: str

    class Meta:
        primary_key = peewee.CompositeKey("group", "user")


class Grant(BaseModel):
    """A role on one item of a space, for a user, a group or a public link.

    Space membership is a grant on the space root (``node_id == space.id``);
    a share is a grant on any other item. ``role`` is a unified role id
    (app.roles). Links carry their token, type and hashed password.
    """

    id = peewee.CharField(primary_key=True, max_length=36)
    space = peewee.ForeignKeyField(Space, on_delete="CASCADE", index=True)
    node_id = peewee.CharField(max_length=36, index=True)
    grantee_type = peewee.CharField(max_length=16)  # user | group | link
    grantee_id = peewee.CharField(max_length=36, null=True, index=True)
    role = peewee.CharField(max_length=36)
    created_by = peewee.CharField(max_length=36, default="")  # user id
    created = peewee.FloatField(default=now)
    expires = peewee.FloatField(null=True)
    link_token = peewee.CharField(max_length=64, null=True, unique=True)
    link_type = peewee.CharField(max_length=32, null=True)
    password_hash = peewee.TextField(null=True)
    display_name = peewee.CharField(max_length=255, default="")

    space_id: str


class ShareState(BaseModel):
    """A recipient's view of a share: its name in the share jail, hidden, synced."""

    grant = peewee.ForeignKeyField(Grant, on_delete="CASCADE")
    user = peewee.ForeignKeyField(User, on_delete="CASCADE", index=True)
    mount_name = peewee.TextField(default="")
    hidden = peewee.BooleanField(default=False)
    synchronize = peewee.BooleanField(default=True)

    grant_id: str
    user_id: str

    class Meta:
        primary_key = peewee.CompositeKey("grant", "user")


class TrashItem(BaseModel):
    """A deleted file or folder, kept under .grove/trash/<space>/<id> until purged."""

    id = peewee.CharField(primary_key=True, max_length=36)  # the trash key
    space = peewee.ForeignKeyField(Space, on_delete="CASCADE", index=True)
    node_id = peewee.CharField(max_length=36)
    name = peewee.TextField()
    original_path = peewee.TextField()  # parent folder, relative to the space root
    is_dir = peewee.BooleanField(default=False)
    size = peewee.BigIntegerField(default=0)
    deleted = peewee.FloatField(default=now, index=True)
    deleted_by = peewee.CharField(max_length=36, default="")

    space_id: str


class Version(BaseModel):
    """An earlier content of a file, kept under .grove/versions/<space>/<node>/."""

    id = peewee.CharField(primary_key=True, max_length=36)  # the version key
    space = peewee.ForeignKeyField(Space, on_delete="CASCADE", index=True)
    node_id = peewee.CharField(max_length=36, index=True)
    size = peewee.BigIntegerField(default=0)
    mtime_ns = peewee.BigIntegerField(default=0)
    sha1 = peewee.CharField(max_length=40, null=True)
    created = peewee.FloatField(default=now, index=True)
    created_by = peewee.CharField(max_length=36, default="")

    space_id: str


class Favorite(BaseModel):
    user = peewee.ForeignKeyField(User, on_delete="CASCADE")
    node_id = peewee.CharField(max_length=36, index=True)

    user_id: str

    class Meta:
        primary_key = peewee.CompositeKey("user", "node_id")


class Tag(BaseModel):
    node_id = peewee.CharField(max_length=36, index=True)
    name = peewee.CharField(max_length=255, index=True)

    class Meta:
        primary_key = peewee.CompositeKey("node_id", "name")


class UploadSession(BaseModel):
    """A resumable upload (TUS) or a chunked upload (Nextcloud NG) in progress.

    Its bytes live in .grove/uploads/<id>; the row survives a restart.
    """

    id = peewee.CharField(primary_key=True, max_length=64)
    kind = peewee.CharField(max_length=16)  # tus | chunked
    user = peewee.ForeignKeyField(User, on_delete="CASCADE", index=True)
    space = peewee.ForeignKeyField(Space, on_delete="CASCADE", null=True)
    path = peewee.TextField(default="")  # target, relative to the space root
    length = peewee.BigIntegerField(null=True)
    offset = peewee.BigIntegerField(default=0)
    metadata = peewee.TextField(default="{}")  # JSON
    created = peewee.FloatField(default=now)
    expires = peewee.FloatField(index=True)

    user_id: str
    space_id: str | None


TABLES: tuple[type[BaseModel], ...] = (
    Meta,
    User,
    Space,
    Node,
    DeadProperty,
    Lock,
    AuditEvent,
    AppToken,
    SignInFailures,
    TrustedAddress,
    TotpSecret,
    RecoveryCode,
    Session,
    Group,
    GroupMember,
    Grant,
    ShareState,
    TrashItem,
    Version,
    Favorite,
    Tag,
    UploadSession,
)
