#!/usr/bin/env bash
# Builds a minimal container root filesystem from Debian's busybox-static: no downloads.
# Usage: scripts/make-rootfs.sh DIR
set -euo pipefail
dest=${1:?usage: make-rootfs.sh DIR}
busybox=${BUSYBOX:-/bin/busybox}
if [ ! -x "$busybox" ]; then
  echo "make-rootfs: $busybox not found (apt-get install busybox-static)" >&2
  exit 1
fi
if ! "$busybox" --list >/dev/null 2>&1; then
  echo "make-rootfs: $busybox is not a multi-call busybox" >&2
  exit 1
fi
mkdir -p "$dest"/{bin,sbin,etc,proc,sys,dev,tmp,root,run,var/tmp,home,usr/bin,usr/sbin}
chmod 1777 "$dest/tmp" "$dest/var/tmp"
install -m 0755 "$busybox" "$dest/bin/busybox"
for applet in $("$busybox" --list); do
  [ "$applet" = busybox ] && continue
  ln -sf busybox "$dest/bin/$applet"
done
cat > "$dest/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PASSWD
cat > "$dest/etc/group" <<'GROUP'
root:x:0:
daemon:x:1:
nogroup:x:65534:
GROUP
echo "busybox" > "$dest/etc/hostname"
: > "$dest/etc/hosts"
: > "$dest/etc/resolv.conf"
echo "$dest"
