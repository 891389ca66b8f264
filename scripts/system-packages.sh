#!/usr/bin/env bash
# Install the Debian packages Grove's tests drive, when any is missing.
# Usage: scripts/system-packages.sh [--runtime] [extra-package ...]
# --runtime: only what `make run` needs (libmagic1), not the test tools.
set -euo pipefail

# package:command-or-file that proves it is installed
wanted=(
  litmus:/usr/bin/litmus
  rclone:/usr/bin/rclone
  davfs2:/usr/sbin/mount.davfs
  cadaver:/usr/bin/cadaver
  attr:/usr/bin/getfattr
  libmagic1:/usr/share/doc/libmagic1
  clamav-daemon:/usr/sbin/clamd
  c-icap:/usr/bin/c-icap
  libc-icap-mod-virus-scan:/usr/lib/x86_64-linux-gnu/c_icap/virus_scan.so
  rsync:/usr/bin/rsync
  git:/usr/bin/git
  openssl:/usr/bin/openssl
  owncloud-client-cmd:/usr/bin/owncloudcmd
  nextcloud-desktop-cmd:/usr/bin/nextcloudcmd
)
if [ "${1:-}" = "--runtime" ]; then
  # What `make run` needs beyond Python: libmagic for file types.
  wanted=(libmagic1:/usr/share/doc/libmagic1)
  shift
fi
for extra in "$@"; do wanted+=("$extra"); done

missing=()
for pair in "${wanted[@]}"; do
  package=${pair%%:*}
  proof=${pair#*:}
  [ -e "$proof" ] || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "missing Debian packages: ${missing[*]}; run: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
echo "installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
