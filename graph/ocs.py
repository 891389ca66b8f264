"""What sync clients ask before anything else: status.php and the OCS endpoints.

- ``/status.php`` and ``/status`` (open): installed, version and product.
  ``version`` is a 10.x string as OpenCloud reports it (``version.Legacy``):
  desktop clients refuse servers whose version looks older.
- ``/ocs/v1.php/cloud/capabilities`` and ``/ocs/v2.php/...`` (open): what this
  Grove supports, nothing more. A client that believes a feature exists uses
  it, so every flag here is backed by code on this server.
- ``/ocs/v{1,2}.php/cloud/user`` (signed in): who the caller is.

OCS answers come in the OCS envelope, JSON with ``?format=json`` and XML
otherwise; v1 reports success as statuscode 100, v2 as 200 (v2 also puts
the OCS status in the HTTP status).
"""

from __future__ import annotations

import importlib.util
import shutil
from typing import Any

from flask import Blueprint, Response, jsonify, request
from flask.typing import ResponseReturnValue
from lxml import etree

from app import quota, spaces, users
from app.instance import Grove
from app.search.kql import MEDIA_KEYWORDS
from app.storage.names import xml_safe

PRODUCT = "Grove"
# The ownCloud 10 version OpenCloud reports for old clients (reva version.Legacy).
LEGACY_VERSION = "10.11.0.0"
LEGACY_VERSION_STRING = "10.11.0"
# Bytes of one TUS PATCH the clients should send (OpenCloud's default).
TUS_MAX_CHUNK = 10_000_000
TUS_EXTENSIONS = "creation,creation-with-upload,checksum,expiration"


def product_version() -> str:
    try:
        from importlib.metadata import version

        return version("grove")
    except Exception:  # noqa: BLE001 - not installed as a package: a source tree
        return "0.1.0"


def status() -> dict[str, Any]:
    return {
        "installed": True,
        "maintenance": False,
        "needsDbUpgrade": False,
        "version": LEGACY_VERSION,
        "versionstring": LEGACY_VERSION_STRING,
        "edition": "Community",
        "productname": PRODUCT,
        "product": PRODUCT,
        "productversion": product_version(),
    }


def _built(module: str) -> bool:
    """Whether a feature's module is part of this Grove (features land one by one)."""
    return importlib.util.find_spec(module) is not None


def features() -> dict[str, bool]:
    """Optional features and whether this build serves them."""
    return {
        "undelete": _built("app.storage.trash"),
        "versioning": _built("app.storage.versions"),
        "favorites": _built("app.favorites") or _built("app.storage.favorites"),
        "sharing": _built("app.shares"),
        "search": _built("app.search"),
        "tags": _built("app.tags"),
    }


def capabilities() -> dict[str, Any]:
    have = features()
    files: dict[str, Any] = {
        "bigfilechunking": False,
        # Names clients keep to themselves: Grove stores any valid name.
        "blacklisted_files": [],
        "privateLinks": False,
        "private_links": False,
        "undelete": have["undelete"],
        "versioning": have["versioning"],
        "favorites": have["favorites"],
        "full_text_search": have["search"],
        "tags": have["tags"],
        "archivers": [],
        "app_providers": [],
        "tus_support": {
            "version": "1.0.0",
            "resumable": "1.0.0",
            "extension": TUS_EXTENSIONS,
            "max_chunk_size": TUS_MAX_CHUNK,
            "http_method_override": "",
        },
    }
    # Chunked upload NG (MKCOL/PUT/MOVE under /remote.php/dav/uploads).
    dav: dict[str, Any] = {"chunking": "1.0"}
    if have["search"]:
        dav["reports"] = ["search-files"]
    caps: dict[str, Any] = {
        "core": {
            "pollinterval": 60,
            "poll_interval": 60,
            "webdav-root": "remote.php/webdav",
            "webdav_root": "remote.php/webdav",
            "status": status(),
            "support_url_signing": False,
            "support_sse": False,
        },
        "checksums": {"supportedTypes": ["SHA1"], "preferredUploadType": "SHA1"},
        "files": files,
        "dav": dav,
        "spaces": {
            "version": "1.0.0",
            "enabled": True,
            "projects": True,
            "share_jail": have["sharing"],
            "max_quota": 0,
        },
        "files_sharing": _sharing(have["sharing"]),
    }
    # OpenCloud's builder spells the checksum keys in snake case; ownCloud's
    # and Nextcloud's clients read the camel case ones.
    caps["checksums"].update(supported_types=["SHA1"], preferred_upload_type="SHA1")
    if have["search"]:
        caps["search"] = _search()
    return caps


def _search() -> dict[str, Any]:
    """The KQL properties OpenCloud's web client offers as filters (app.search.kql)."""
    on = {"enabled": True}
    return {
        "property": {
            "name": on,
            "mtime": {
                "enabled": True,
                "keywords": [
                    "today",
                    "last 7 days",
                    "last 30 days",
                    "this year",
                    "last year",
                ],
            },
            "size": on,
            "mediatype": {
                "enabled": True,
                "keywords": ["file", "folder", *sorted(MEDIA_KEYWORDS)],
            },
            "type": on,
            "tag": on,
            "tags": on,
            "content": on,
            "scope": on,
        }
    }


def _sharing(enabled: bool) -> dict[str, Any]:
    if not enabled:
        return {"api_enabled": False, "public": {"enabled": False}}
    return {
        "api_enabled": False,  # the legacy OCS share API is not served
        "group_sharing": True,
        "sharing_roles": True,
        "deny_access": True,  # the Denied role, in project spaces
        "auto_accept_share": True,
        "default_permissions": 22,
        "search_min_length": 3,
        "public": {
            "enabled": True,
            "upload": True,
            "supports_upload_only": True,  # createOnly links
            "multiple": True,
            "password": {"enforced": False},
        },
        "user": {"send_mail": False},
        "federation": {"outgoing": False, "incoming": False},
    }


# --- the OCS envelope ---------------------------------------------------------


def _version() -> int:
    return 2 if request.path.startswith("/ocs/v2.php") else 1


def _wants_json() -> bool:
    return request.args.get("format", "").lower() == "json" or (
        "application/json" in request.headers.get("Accept", "")
        and request.args.get("format", "").lower() != "xml"
    )


def _xml_value(parent: etree._Element, value: Any) -> None:
    if isinstance(value, dict):
        for key, child in value.items():
            _xml_value(etree.SubElement(parent, str(key)), child)
    elif isinstance(value, list):
        for child in value:
            _xml_value(etree.SubElement(parent, "element"), child)
    elif isinstance(value, bool):
        parent.text = "1" if value else ""
    elif value is not None:
        text = str(value)
        parent.text = text if xml_safe(text) else ""


def ocs(
    data: Any, *, ok: bool = True, code: int | None = None, message: str = ""
) -> Response:
    """``data`` in the OCS envelope of the version and format asked for."""
    version = _version()
    if code is None:
        code = (100 if version == 1 else 200) if ok else 996
    meta: dict[str, Any] = {
        "status": "ok" if ok else "failure",
        "statuscode": code,
        "message": message or ("OK" if ok else "error"),
        "totalitems": "",
        "itemsperpage": "",
    }
    http = 200
    if version == 2 and not ok:
        # v2 carries the outcome in the HTTP status as well.
        http = code if 400 <= code < 600 else 500
    elif version == 1 and code == 997:
        http = 401
    if _wants_json():
        response = jsonify(ocs={"meta": meta, "data": data})
    else:
        root = etree.Element("ocs")
        _xml_value(etree.SubElement(root, "meta"), meta)
        _xml_value(etree.SubElement(root, "data"), data)
        body = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
        response = Response(body, content_type="text/xml; charset=utf-8")
    response.status_code = http
    return response


def create_blueprint(grove: Grove) -> Blueprint:
    ocs_pages = Blueprint("ocs", __name__)

    @ocs_pages.get("/status.php")
    @ocs_pages.get("/status")
    def status_page() -> ResponseReturnValue:
        return jsonify(status())

    @ocs_pages.get("/ocs/v1.php/cloud/capabilities")
    @ocs_pages.get("/ocs/v2.php/cloud/capabilities")
    def capabilities_page() -> ResponseReturnValue:
        major, minor, micro = (product_version().split(".") + ["0", "0"])[:3]
        version = {
            "major": int(major) if major.isdigit() else 0,
            "minor": int(minor) if minor.isdigit() else 0,
            "micro": int(micro) if micro.isdigit() else 0,
            "string": LEGACY_VERSION_STRING,
            "edition": "Community",
            "product": PRODUCT,
            "productversion": product_version(),
        }
        return ocs({"version": version, "capabilities": capabilities()})

    @ocs_pages.get("/ocs/v1.php/cloud/user")
    @ocs_pages.get("/ocs/v2.php/cloud/user")
    def user_page() -> ResponseReturnValue:
        principal = request.environ.get("grove.principal")
        if principal is None or principal.enrolment_only:
            response = ocs(None, ok=False, code=997, message="sign in required")
            response.status_code = 401
            response.headers["WWW-Authenticate"] = 'Basic realm="Grove"'
            return response
        user = users.get(principal.user_id)
        space = spaces.personal_space(user)
        usage = quota.usage(space, shutil.disk_usage(grove.storage_dir).free)
        limit = usage.total or usage.used + usage.remaining
        data = {
            "id": user.name,
            "display-name": user.display_name or user.name,
            "displayname": user.display_name or user.name,
            "email": getattr(user, "email", "") or "",
            "quota": {
                "free": usage.remaining,
                "used": usage.used,
                "total": limit,
                "relative": round(usage.used * 100 / max(limit, 1), 2),
                "definition": "default" if not usage.total else str(usage.total),
            },
        }
        return ocs(data)

    return ocs_pages
