#!/usr/bin/env bash
# Installs the firewall tools the firewall sinks drive and their tests use:
# nftables (nft), iptables, ipset and ufw. Idempotent and quiet: installs only
# what is missing, runs apt-get update only when the install fails (no
# package lists yet), and prints the path of nft.
#
#   scripts/firewall-tools.sh            # -> /usr/sbin/nft
set -euo pipefail

# binary:package pairs; a package is installed when its binary is missing.
want=(nft:nftables iptables:iptables ipset:ipset ufw:ufw)
missing=()
for pair in "${want[@]}"; do
  bin=${pair%%:*}
  pkg=${pair#*:}
  if ! PATH="$PATH:/usr/sbin:/sbin" command -v "$bin" >/dev/null 2>&1; then
    missing+=("$pkg")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  # Wait for the dpkg lock rather than fail when another install runs.
  apt=(apt-get -o DPkg::Lock::Timeout=300)
  if ! "${apt[@]}" install -y --no-install-recommends "${missing[@]}" >/dev/null 2>&1; then
    "${apt[@]}" update >/dev/null 2>&1 || true
    "${apt[@]}" install -y --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi

for pair in "${want[@]}"; do
  bin=${pair%%:*}
  if ! PATH="$PATH:/usr/sbin:/sbin" command -v "$bin" >/dev/null 2>&1; then
    echo "firewall-tools.sh: $bin is still missing after installing ${pair#*:}" >&2
    exit 1
  fi
done
PATH="$PATH:/usr/sbin:/sbin" command -v nft
