#!/usr/bin/env bash
# Downloads Debian's fail2ban package and unpacks it into a cache outside
# the repository (its sample logs and stock configuration are GPL: they are
# test data we read, never files we commit). Prints the unpacked root.
#
#   scripts/fetch-fail2ban.sh            # -> $F2B_CACHE/fail2ban/root
#
# The root holds etc/fail2ban (stock config) and
# usr/lib/python3/dist-packages/fail2ban (the code and tests/files/logs).
set -euo pipefail
cache="${F2B_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/f2b}/fail2ban"
root="$cache/root"
if [ -f "$root/.complete" ]; then
  echo "$root"
  exit 0
fi
mkdir -p "$cache"
cd "$cache"
rm -f fail2ban_*.deb
if ! apt-get download fail2ban >/dev/null 2>&1; then
  apt-get update >/dev/null 2>&1 || true
  apt-get download fail2ban >/dev/null
fi
rm -rf "$root"
dpkg -x fail2ban_*.deb "$root"
touch "$root/.complete"
echo "$root"
