#!/usr/bin/env bash
# Installs systemd-journal-remote, whose binary turns journal export format
# into real journal files: the journal source's tests build their journals
# with it and read them back with journalctl. Idempotent and quiet; prints
# the binary's path.
#
#   scripts/journal-tools.sh            # -> /lib/systemd/systemd-journal-remote
set -euo pipefail
bin=/lib/systemd/systemd-journal-remote
if [ ! -x "$bin" ]; then
  export DEBIAN_FRONTEND=noninteractive
  # Wait for the dpkg lock rather than fail when another install runs.
  apt=(apt-get -o DPkg::Lock::Timeout=300)
  if ! "${apt[@]}" install -y --no-install-recommends systemd-journal-remote >/dev/null 2>&1; then
    "${apt[@]}" update >/dev/null 2>&1 || true
    "${apt[@]}" install -y --no-install-recommends systemd-journal-remote >/dev/null
  fi
fi
if [ ! -x "$bin" ]; then
  echo "journal-tools.sh: $bin is still missing after installing systemd-journal-remote" >&2
  exit 1
fi
echo "$bin"
