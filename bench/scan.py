"""Time ``grove scan``: ``python -m bench.scan [--files N] [--per-folder N]``.

Makes a data folder with one user whose space holds N files (written as
another program would: no ids, no rows), then times the real ``grove scan``
command three times: the first scan (every entry new: ids written, rows
inserted), a scan with nothing changed, and a scan after changes made while
Grove was down (1 % of the files rewritten, 1 % moved to another folder, one
folder removed).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GROVE = Path(sys.executable).parent / "grove"


def grove(*args: str | Path, stdin: str = "") -> float:
    """Run ``grove`` with ``args``; the wall time in seconds."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GROVE_")}
    env["GROVE_ADMIN_PASSWORD"] = "admin-password-1"
    started = time.monotonic()
    done = subprocess.run(
        [str(GROVE), *map(str, args)],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    elapsed = time.monotonic() - started
    if done.returncode != 0:
        raise SystemExit(f"grove {args} failed:\n{done.stderr}")
    print(done.stdout.strip(), file=sys.stderr)
    return elapsed


def make_tree(root: Path, files: int, per_folder: int) -> None:
    payload = b"x" * 100
    for index in range(files):
        folder = root / f"f{index // per_folder:05d}"
        if index % per_folder == 0:
            folder.mkdir()
        (folder / f"file{index:07d}.txt").write_bytes(payload)


def change_tree(root: Path, files: int, per_folder: int) -> None:
    folders = sorted(p for p in root.iterdir() if p.is_dir())
    target = folders[0]
    for index in range(0, files, 100):
        folder = root / f"f{index // per_folder:05d}"
        name = f"file{index:07d}.txt"
        if folder == target or not (folder / name).exists():
            continue
        (folder / name).write_bytes(b"changed")
        moved = folder / f"file{index + 1:07d}.txt"
        if moved.exists():
            moved.rename(target / f"moved{index + 1:07d}.txt")
    shutil.rmtree(folders[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--per-folder", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="grove-scan-bench-") as temp:
        data = Path(temp) / "data"
        grove(
            "user",
            "add",
            "alice",
            "--password-stdin",
            "--data",
            data,
            stdin="correct horse battery\n",
        )
        root = data / "storage" / "users" / "alice"
        started = time.monotonic()
        make_tree(root, args.files, args.per_folder)
        print(
            f"made {args.files} files in {time.monotonic() - started:.1f} s",
            file=sys.stderr,
        )
        first = grove("scan", "--data", data)
        unchanged = grove("scan", "--data", data)
        change_tree(root, args.files, args.per_folder)
        changed = grove("scan", "--data", data)
    print(f"grove scan of {args.files} files in folders of {args.per_folder}:")
    print(f"  first scan (all new): {first:.1f} s")
    print(f"  nothing changed:      {unchanged:.1f} s")
    print(f"  after changes:        {changed:.1f} s")


if __name__ == "__main__":
    main()
