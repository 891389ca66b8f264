"""PROPFIND answered straight from Grove's items, built with lxml.

WsgiDAV's generic PROPFIND asks every resource for every property through
``get_property_value`` (raising a DAVError per missing one), quotes each
ref URL and builds each response with per-response namespace maps: a
Depth 1 listing of 10,000 files took seconds. Here the listing is one
directory scan plus one batched query (``SpaceTree.children``), one lock
query for the whole folder, one permission call per item, and dead
properties are read (one extended attribute per item) only when the request
asks for them. The answer is the one the generic path gave: the same
properties, values and 404 propstats (tests/dav/test_propfind.py compares
both).
"""

from __future__ import annotations

import functools
import math
import mimetypes
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from lxml import etree
from wsgidav import util
from wsgidav.dav_error import (
    HTTP_BAD_REQUEST,
    HTTP_FORBIDDEN,
    HTTP_NOT_FOUND,
    DAVError,
    PRECONDITION_CODE_PropfindFiniteDepth,
)
from wsgidav.request_server import RequestServer

from app import acl, favorites, forwarded, locks, quota, shares, spaces, tags
from app.perms import VISIBLE
from app.storage import props
from app.storage.names import xml_safe
from app.storage.tree import Item
from dav import properties
from dav.errors import translated
from dav.locks import lock_url
from dav.resources import FolderResource, GroveResourceMixin

D = "{DAV:}"
HREF_SAFE = "/!*'(),$-_|."
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
_NOT_FOUND = "HTTP/1.1 404 Not Found"
_OK = "HTTP/1.1 200 OK"
_MISSING = object()  # a property this item does not have: 404 propstat

LOCK_NAMES = [f"{D}lockdiscovery", f"{D}supportedlock"]
# The order WsgiDAV's get_property_names gave (allprop and propname).
FILE_NAMES = [
    f"{D}resourcetype",
    f"{D}creationdate",
    f"{D}getcontentlength",
    f"{D}getcontenttype",
    f"{D}getlastmodified",
    f"{D}displayname",
    f"{D}getetag",
    *LOCK_NAMES,
]
FOLDER_NAMES = [
    f"{D}resourcetype",
    f"{D}creationdate",
    f"{D}quota-used-bytes",
    f"{D}quota-available-bytes",
    f"{D}getlastmodified",
    f"{D}displayname",
    f"{D}getetag",
    *LOCK_NAMES,
]


@dataclass
class Request:
    mode: str  # "allprop", "propname" or "named"
    names: list[str]


def parse(environ: dict[str, Any]) -> Request:
    """The PROPFIND body (already buffered and vetted by the XML guard)."""
    body = environ["wsgi.input"].read()
    if not body.strip():
        return Request("allprop", [])
    try:
        root = etree.fromstring(body, parser=_PARSER)
    except etree.XMLSyntaxError:
        raise DAVError(HTTP_BAD_REQUEST, "malformed PROPFIND body") from None
    if root.tag != f"{D}propfind":
        raise DAVError(HTTP_BAD_REQUEST, "PROPFIND body is not a propfind")
    mode: str | None = None
    names: list[str] = []
    for child in root:
        tag = child.tag
        if tag in (f"{D}allprop", f"{D}propname", f"{D}name"):
            # <name/> is what WsgiDAV looked for; <propname/> is RFC 4918's.
            wanted = "allprop" if tag == f"{D}allprop" else "propname"
            if mode is not None:
                raise DAVError(HTTP_BAD_REQUEST, "allprop, propname, prop exclude")
            mode = wanted
        elif tag == f"{D}prop":
            if mode not in (None, "named"):
                raise DAVError(HTTP_BAD_REQUEST, "allprop, propname, prop exclude")
            mode = "named"
            names.extend(str(p.tag) for p in child if isinstance(p.tag, str))
    # A body without any of them asked for nothing (as the library answered).
    return Request(mode or "named", names)


_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = (
    "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()  # noqa: SIM905
)


def http_date(secs: float) -> str:
    """RFC 1123 date as ``email.utils.formatdate(usegmt=True)`` writes it."""
    return _http_date(math.floor(secs))


@functools.lru_cache(maxsize=4096)
def _http_date(secs: int) -> str:
    # Cached: the members of a folder often share their modification second.
    t = time.gmtime(secs)
    return (
        f"{_DAYS[t.tm_wday]}, {t.tm_mday:02d} {_MONTHS[t.tm_mon - 1]} "
        f"{t.tm_year:04d} {t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} GMT"
    )


@functools.lru_cache(maxsize=4096)
def _type_by_suffix(suffixes: str) -> str:
    return mimetypes.guess_type("x" + suffixes)[0] or "application/octet-stream"


def content_type(name: str) -> str:
    """What FileResource.get_content_type says, cached by the name's suffixes."""
    dot = name.find(".", 1)
    if dot < 0 or ":" in name:
        return mimetypes.guess_type(name)[0] or "application/octet-stream"
    return _type_by_suffix(name[dot:])


class Entry:
    """One item of the answer with what its properties are computed from."""

    __slots__ = ("item", "perms", "href", "dead", "mount")

    def __init__(
        self, item: Item, perms: acl.Perm, href: str, *, mount: bool = False
    ) -> None:
        self.item = item
        self.perms = perms
        self.href = href
        self.dead: dict[str, str] | None = None
        self.mount = mount  # the shared item itself (jail mount, link root)

    def dead_props(self) -> dict[str, str]:
        if self.dead is None:
            self.dead = props.load(self.item.path, self.item.id)
        return self.dead


class Builder:
    """Computes property values for the entries of one PROPFIND."""

    def __init__(self, res: GroveResourceMixin, principal: Any) -> None:
        self.res = res
        self.principal = principal
        self.provider = res.provider
        self.space = res.item.tree.space
        # Membership is asked once per request, not once per listed member.
        self.memo = acl.request_memo(res.environ)
        self._free: dict[int, int] = {}
        self._room: dict[str, int] = {}
        self._locks: dict[str, list[locks.LockInfo]] = {}
        self.live: dict[str, Callable[[Entry], Any]] = {
            f"{D}getetag": lambda e: f'"{e.item.etag}"',
            properties.WIN32_MTIME: lambda e: http_date(e.item.st.st_mtime),
            f"{D}resourcetype": _resourcetype,
            f"{D}creationdate": lambda e: util.get_rfc3339_time(e.item.st.st_ctime),
            f"{D}getcontentlength": lambda e: (
                _MISSING if e.item.is_dir else str(e.item.st.st_size)
            ),
            f"{D}getcontenttype": lambda e: (
                _MISSING if e.item.is_dir else e.item.mime or content_type(e.item.name)
            ),
            # The library answered an empty 200 for a file's quota properties.
            f"{D}quota-used-bytes": lambda e: (
                str(e.item.size) if e.item.is_dir else None
            ),
            f"{D}quota-available-bytes": self._available,
            f"{D}getlastmodified": lambda e: http_date(e.item.st.st_mtime),
            f"{D}displayname": _displayname,
            f"{D}lockdiscovery": self._lockdiscovery,
            f"{D}supportedlock": lambda e: _SUPPORTEDLOCK,
            f"{properties.OC}checksums": _checksums,
            f"{properties.OC}share-types": self._share_types,
            properties.PERMISSIONS: self._letters,
            f"{properties.OC}shareid": lambda e: (
                str(res.grant.id) if res.shared and res.grant else _MISSING
            ),
            f"{properties.OC}shareroot": self._shareroot,
            properties.FAVORITE: self._favorite,
            properties.TAGS: self._tags,
        }
        # One resource id prefix per space, not a storage id lookup per member.
        self._id_prefix: dict[str, str] = {}
        self.live[f"{properties.OC}id"] = self._resource_id
        self.live[f"{properties.OC}fileid"] = self._resource_id
        self._listed: list[str] = []  # node ids of the entries, for one query
        self._types: dict[str, list[int]] | None = None
        self._favorites: set[str] | None = None
        self._tag_names: dict[str, list[str]] | None = None

    # --- the entries -------------------------------------------------------

    def entries(self, depth: str) -> Iterator[Entry]:
        res = self.res
        self._listed.append(res.item.id)
        yield Entry(res.item, res.perms, res.get_href(), mount=res.mount)
        if depth == "0" or not isinstance(res, FolderResource):
            return
        if not res.perms & _LISTS:
            return  # a file drop: the folder itself, never its members
        provider = self.provider
        base = res.environ.get(forwarded.PREFIX_KEY, "") + quote(
            provider.mount_path + provider.share_path + res.path.rstrip("/") + "/",
            safe=HREF_SAFE,
        )
        yield from self._members(res.item, base, depth == "infinity")

    def _members(self, folder: Item, base: str, deep: bool) -> Iterator[Entry]:
        with translated():
            children = folder.tree.children(folder)
        for child in children:
            perms = acl.permissions(
                self.principal,
                self.space,
                child.parts,
                grant=self.res.grant,
                memo=self.memo,
            )
            if child.link:
                perms = acl.through_symlink(
                    self.principal, child, perms, grant=self.res.grant, memo=self.memo
                )
            if not perms & VISIBLE:
                continue
            href = base + quote(child.name, safe=HREF_SAFE)
            if child.is_dir:
                href += "/"
            self._listed.append(child.id)
            yield Entry(child, perms, href)
            if deep and child.is_dir and perms & _LISTS:
                yield from self._members(child, href, deep)

    def load_locks(self, depth: str) -> None:
        """Every live lock rooted at the request's item or below: one query."""
        root = self.res.get_ref_url()
        below = depth != "0" and self.res.is_collection
        for lock in locks.on(root, include_root=True, below=below):
            self._locks.setdefault(lock.root, []).append(lock)

    # --- values --------------------------------------------------------------

    def names(self, entry: Entry) -> list[str]:
        """The names allprop and propname list, as WsgiDAV's defaults did."""
        live = FOLDER_NAMES if entry.item.is_dir else FILE_NAMES
        if _displayname(entry) is _MISSING:
            live = [name for name in live if name != f"{D}displayname"]
        dead = entry.dead_props()
        return live + [name for name in dead if name not in live]

    def value(self, entry: Entry, name: str) -> Any:
        """A property's value: text, an element, None (empty) or _MISSING."""
        return self.getter(name)(entry)

    def getter(self, name: str) -> Callable[[Entry], Any]:
        """What computes ``name`` for any entry (looked up once per request)."""
        compute = self.live.get(name)
        if compute is not None:
            return compute
        return functools.partial(self._other, name)

    def _other(self, name: str, entry: Entry) -> Any:
        if name in properties.LIVE:
            try:
                value = properties.live_value(name, entry.item, entry.perms)
            except LookupError:
                return _MISSING
            if isinstance(value, str) and not xml_safe(value):
                # A name from disk that XML 1.0 cannot carry: the href has it.
                return _MISSING
            return value
        if name.startswith(D):
            return _MISSING
        stored = entry.dead_props().get(name)
        if stored is None:
            return _MISSING
        return etree.fromstring(stored.encode())

    def _resource_id(self, entry: Entry) -> Any:
        space = entry.item.tree.space
        prefix = self._id_prefix.get(space.id)
        if prefix is None:
            prefix = self._id_prefix[space.id] = spaces.resource_id(space, "")
        return prefix + entry.item.id

    def _available(self, entry: Entry) -> Any:
        if not entry.item.is_dir:
            return None
        device = entry.item.st.st_dev
        if device not in self._free:
            self._free[device] = shutil.disk_usage(entry.item.path).free
        space = entry.item.tree.space
        if space.id not in self._room:
            # The space's quota caps what the disk offers (RFC 4331).
            self._room[space.id] = quota.available(space, self._free[device])
        return str(self._room[space.id])

    def _letters(self, entry: Entry) -> Any:
        return _letters(
            entry.perms,
            is_dir=entry.item.is_dir,
            shared=self.res.shared,
            mount=entry.mount and self.res.shared,
        )

    def _share_types(self, entry: Entry) -> Any:
        """Shares of the caller's own items (those reached through a share
        or a link show none)."""
        if self.res.grant is not None:
            return _EMPTY
        if self._types is None:
            self._types = shares.share_types(self._listed)
        kinds = self._types.get(entry.item.id)
        if not kinds:
            return _EMPTY
        return Markup("".join(f"<oc:share-type>{k}</oc:share-type>" for k in kinds))

    def _favorite(self, entry: Entry) -> Any:
        """The caller's own mark (favourites are per user)."""
        if self._favorites is None:
            user_id = getattr(self.principal, "user_id", None)
            found = favorites.among(user_id, self._listed) if user_id else set()
            self._favorites = found
        return "1" if entry.item.id in self._favorites else "0"

    def _tags(self, entry: Entry) -> Any:
        if self._tag_names is None:
            self._tag_names = tags.of_nodes(self._listed)
        return ",".join(self._tag_names.get(entry.item.id, ()))

    def _shareroot(self, entry: Entry) -> Any:
        res = self.res
        if not res.shared:
            return _MISSING
        for mount in res.environ.get("grove.mounts") or ():
            if res.grant is not None and mount.grant.id == res.grant.id:
                return "/" + mount.name
        return _MISSING

    def _lockdiscovery(self, entry: Entry) -> Any:
        if not self._locks:
            return _EMPTY
        found = self._locks.get(lock_url(entry.item.tree.space, entry.item.parts))
        if not found:
            return _EMPTY
        element = etree.Element(f"{D}lockdiscovery")
        for lock in found:
            element.append(_activelock(lock, entry.href))
        return element


class Markup(str):
    """A value that is already XML: the property element's children."""


_letters = functools.lru_cache(maxsize=256)(acl.oc_letters)
_LISTS = acl.Perm.READ | acl.Perm.LIST
_COLLECTION = Markup("<D:collection/>")
_EMPTY = Markup("")
_SUPPORTEDLOCK = Markup(
    "".join(
        f"<D:lockentry><D:lockscope><D:{scope}/></D:lockscope>"
        "<D:locktype><D:write/></D:locktype></D:lockentry>"
        for scope in ("exclusive", "shared")
    )
)


def _resourcetype(entry: Entry) -> Any:
    return _COLLECTION if entry.item.is_dir else ""


def _displayname(entry: Entry) -> Any:
    item = entry.item
    name = item.name or str(item.tree.space.name)
    return name if xml_safe(name) else _MISSING


def _checksums(entry: Entry) -> Any:
    sha1 = entry.item.sha1
    if sha1 is None:
        return _MISSING
    return Markup(f"<oc:checksum>SHA1:{sha1}</oc:checksum>")


def _activelock(lock: locks.LockInfo, href: str) -> Any:
    active = etree.Element(f"{D}activelock")
    etree.SubElement(etree.SubElement(active, f"{D}locktype"), f"{D}write")
    etree.SubElement(etree.SubElement(active, f"{D}lockscope"), f"{D}{lock.scope}")
    etree.SubElement(active, f"{D}depth").text = lock.depth
    if lock.owner:
        active.append(etree.XML(lock.owner.encode(), parser=_PARSER))
    timeout = "Infinite"
    if lock.timeout >= 0:
        timeout = f"Second-{int(lock.expire - time.time())}"
    etree.SubElement(active, f"{D}timeout").text = timeout
    token = etree.SubElement(active, f"{D}locktoken")
    etree.SubElement(token, f"{D}href").text = lock.token
    root = etree.SubElement(active, f"{D}lockroot")
    etree.SubElement(root, f"{D}href").text = href
    return active


def _escape(text: str) -> str:
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    return text


class Writer:
    """Writes the multistatus document as text: prefixes declared once at the
    root, tags looked up once per property name."""

    def __init__(self, names: list[str]) -> None:
        self.prefixes: dict[str, str] = {"DAV:": "D", properties.OC[1:-1]: "oc"}
        for name in names:
            namespace = name[1:].partition("}")[0] if name.startswith("{") else ""
            if namespace and namespace not in self.prefixes:
                self.prefixes[namespace] = f"NS{len(self.prefixes) - 1}"
        self._tags: dict[str, tuple[str, str, str]] = {}

    def head(self) -> str:
        declared = " ".join(
            f'xmlns:{prefix}="{_escape(ns).replace(chr(34), "&quot;")}"'
            for ns, prefix in self.prefixes.items()
        )
        return f'<?xml version="1.0" encoding="utf-8"?>\n<D:multistatus {declared}>'

    def tag(self, name: str) -> tuple[str, str, str]:
        """(start tag, end tag, empty element) for a Clark-notation name."""
        found = self._tags.get(name)
        if found is None:
            namespace, _, local = name[1:].rpartition("}")
            if not name.startswith("{"):
                namespace, local = "", name
            prefix = self.prefixes.get(namespace)
            if prefix is not None:
                qname, declare = f"{prefix}:{local}", ""
            else:
                quoted = _escape(namespace).replace('"', "&quot;")
                qname, declare = local, f' xmlns="{quoted}"'
            found = (f"<{qname}{declare}>", f"</{qname}>", f"<{qname}{declare}/>")
            self._tags[name] = found
        return found


def build(builder: Builder, request: Request, depth: str) -> bytes:
    """The multistatus document for every entry the request covers."""
    return build_many([builder], request, depth)


def build_many(builders: list[Builder], request: Request, depth: str) -> bytes:
    """One multistatus document for the entries of several resources (a REPORT)."""
    writer = Writer(request.names)
    out = [writer.head()]
    for builder in builders:
        _responses(out, writer, builder, request, depth)
    out.append("</D:multistatus>")
    return "".join(out).encode("utf-8")


def _responses(
    out: list[str], writer: Writer, builder: Builder, request: Request, depth: str
) -> None:
    wants_locks = request.mode == "allprop" or f"{D}lockdiscovery" in request.names
    if wants_locks:
        builder.load_locks(depth)
    # Listed before any value is taken: a listing that finds new or changed
    # members updates the folder's own size and ETag first.
    plan = _plan(writer, builder, request.names)
    for entry in list(builder.entries(depth)):
        out.append(f"<D:response><D:href>{_escape(entry.href)}</D:href>")
        if request.mode != "named":
            plan = _plan(writer, builder, builder.names(entry))
        missing: list[str] = []
        if plan:
            out.append("<D:propstat><D:prop>")
            found = len(out)
            if request.mode == "propname":
                out.extend(empty for _, _, _, empty in plan)
            else:
                _values(out, missing, plan, entry)
            if len(out) == found:
                out.pop()  # no property found: no 200 propstat
            else:
                out.append(f"</D:prop><D:status>{_OK}</D:status></D:propstat>")
        if missing:
            out.append("<D:propstat><D:prop>")
            out.extend(missing)
            out.append(f"</D:prop><D:status>{_NOT_FOUND}</D:status></D:propstat>")
        out.append("</D:response>")


_Plan = list[tuple[Callable[[Entry], Any], str, str, str]]


def _plan(writer: Writer, builder: Builder, names: list[str]) -> _Plan:
    """Each property's getter and tags, resolved once, not once per entry."""
    return [(builder.getter(name), *writer.tag(name)) for name in names]


def _values(out: list[str], missing: list[str], plan: _Plan, entry: Entry) -> None:
    """The found properties of ``entry`` into ``out``, the others' empty
    elements into ``missing`` (Writer.prop, inlined: it runs per property of
    every entry of a listing)."""
    for get, start, end, empty in plan:
        value = get(entry)
        kind = value.__class__
        if kind is str:
            out.append(start + _escape(value) + end)
        elif kind is Markup:
            out.append(start + value + end)
        elif value is _MISSING:
            missing.append(empty)
        elif value is None:
            out.append(empty)
        elif isinstance(value, Markup):
            out.append(start + value + end)
        elif isinstance(value, str):
            out.append(start + _escape(value) + end)
        else:
            out.append(etree.tostring(value, encoding="unicode"))


def answer(server: Any, environ: dict[str, Any], start_response: Any) -> Any:
    """The 207 for a PROPFIND whose Depth the request server has vetted."""
    depth = environ["HTTP_DEPTH"]
    if depth not in ("0", "1", "infinity"):
        raise DAVError(HTTP_BAD_REQUEST, f"invalid Depth {depth!r}")
    if depth == "infinity" and not server.allow_propfind_infinite:
        raise DAVError(
            HTTP_FORBIDDEN,
            "Depth: infinity is switched off",
            err_condition=PRECONDITION_CODE_PropfindFiniteDepth,
        )
    res = server._davProvider.get_resource_inst(environ["PATH_INFO"], environ)
    if res is None:
        raise DAVError(HTTP_NOT_FOUND)
    if not isinstance(res, GroveResourceMixin):
        # The share jail's virtual root: a handful of members, generic answer.
        return RequestServer.do_PROPFIND(server, environ, start_response)
    server._evaluate_if_headers(res, environ)
    request = parse(environ)
    builder = Builder(res, environ.get("grove.principal"))
    body = build(builder, request, depth)
    start_response(
        "207 Multi-Status",
        [
            ("Content-Type", "application/xml; charset=utf-8"),
            ("Date", util.get_rfc1123_time()),
            ("Content-Length", str(len(body))),
        ],
    )
    return [body]
