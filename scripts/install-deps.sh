#!/usr/bin/env bash
# Installs what containerd-ts needs on a fresh Debian 12 machine (as root):
# the Debian packages the tests compare against, then the npm dependencies, then the build.
set -euo pipefail
cd "$(dirname "$0")/.."
packages=(containerd runc busybox-static ca-certificates iproute2 procps util-linux psmisc)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
scripts/install-criu.sh # CRIU 4.1 for checkpoint/restore (bookworm's 3.17 fails on new kernels)
# The Debian containerd package enables its own daemon; ours and the tests start their own.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet containerd 2>/dev/null; then
  systemctl stop containerd || true
fi
npm ci --no-audit --no-fund
npm run build
