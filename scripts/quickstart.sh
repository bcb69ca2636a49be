#!/usr/bin/env bash
# The main job on a fresh Debian machine, as root: install and build, start containerd-ts,
# then run a container from a busybox rootfs through ctr-ts.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
export PATH="$PWD/node_modules/.bin:$PATH"
work=${QUICKSTART_DIR:-/tmp/containerd-ts-quickstart}
mkdir -p "$work"
sock="$work/containerd.sock"
rootfs="$work/rootfs"
[ -x "$rootfs/bin/busybox" ] || bash scripts/make-rootfs.sh "$rootfs" >/dev/null

containerd-ts --address "$sock" --root "$work/root" --state "$work/state" >"$work/daemon.log" 2>&1 &
daemon=$!
trap 'kill $daemon 2>/dev/null || true; wait $daemon 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do [ -S "$sock" ] && break; sleep 0.1; done

ctr() { ctr-ts --address "$sock" "$@"; }
ctr version
ctr run --rm --runtime io.containerd.ts.v2 --rootfs "$rootfs" hello /bin/sh -c 'echo "hello from busybox: pid $$ in its own pid namespace, $(ls /bin | wc -l) applets"'
echo "daemon log: $work/daemon.log"
