"""The path-safety function, without HTTP: request targets, Destinations, symlinks."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from app.errors import BadRequest, NotFound
from app.storage.paths import check_destination, check_url_path, followable, resolve


@pytest.mark.parametrize(
    "target",
    [
        "/dav/files/alice/../bob",
        "/dav/files/alice/%2e%2e/bob",
        "/dav/files/alice/%2E%2e",
        "/dav/files/alice/./x",
        "/dav/files/alice/%2e/x",
        "/dav/files/alice/a%2Fb",
        "/dav/files/alice/a%2fb",
        "/dav/files/alice/%00",
        "/dav/files/alice/%FF%FE",
        "http://host/dav/files/alice/../bob",
    ],
)
def test_unsafe_targets_are_refused(target: str) -> None:
    with pytest.raises(BadRequest):
        check_url_path(target)


@pytest.mark.parametrize(
    "target",
    [
        "/",
        "*",
        "/dav/files/alice/",
        "/dav/files/alice/..hidden/...",
        "/dav/files/alice/a%252Fb",
        "/dav/files/alice/%2e%2e%2e",
        "/dav/files/alice/caf%C3%A9?x=../y",
        "/dav/files/alice/bad%01name",
        "http://host:8080/dav/files/alice/x",
    ],
)
def test_safe_targets_pass(target: str) -> None:
    check_url_path(target)


def test_destination_refuses_what_url_parsing_would_drop() -> None:
    for value in ("http://h/dav/files/a/x%09y", "/dav/files/a/x%0Ay", "/a/x%0d"):
        with pytest.raises(BadRequest):
            check_destination(value)
    check_destination("http://h/dav/files/a/x%20y")


@pytest.fixture
def space(tmp_path: Path) -> Path:
    root = tmp_path / "space"
    (root / "dir").mkdir(parents=True)
    (root / "dir" / "f.txt").write_text("f")
    (tmp_path / "outside.txt").write_text("o")
    (root / "to_file").symlink_to("dir/f.txt")
    (root / "to_dir").symlink_to("dir")
    (root / "to_outside").symlink_to(tmp_path / "outside.txt")
    (root / "to_outside_dir").symlink_to(tmp_path)
    (root / "dangling").symlink_to("nowhere")
    (root / "dir" / "up").symlink_to("../../outside.txt")
    return root


def test_only_links_to_files_inside_are_followable(space: Path) -> None:
    assert followable(space, space / "to_file")
    for name in ("to_dir", "to_outside", "to_outside_dir", "dangling", "dir/up"):
        assert not followable(space, space / name), name


def test_resolve_follows_a_link_to_a_file_inside(space: Path) -> None:
    assert resolve(space, ["to_file"]) == (space / "to_file", True)
    assert resolve(space, ["dir", "f.txt"]) == (space / "dir" / "f.txt", True)
    assert resolve(space, ["dir", "new.txt"]) == (space / "dir" / "new.txt", False)


@pytest.mark.parametrize(
    "parts",
    [
        ["to_outside"],
        ["to_outside_dir", "outside.txt"],
        ["to_outside_dir", "new.txt"],
        ["to_dir"],
        ["to_dir", "f.txt"],
        ["dangling"],
        ["dir", "up"],
    ],
)
def test_resolve_never_passes_other_links(space: Path, parts: list[str]) -> None:
    with pytest.raises(NotFound):
        resolve(space, parts)


def test_resolve_treats_too_long_and_through_file_names_as_missing(space: Path) -> None:
    assert resolve(space, ["x" * 300])[1] is False
    assert resolve(space, ["dir", "f.txt", "below"])[1] is False
    assert os.path.exists(space / "dir" / "f.txt")
