#!/usr/bin/env bash
# Builds CRIU 4.1 from Debian trixie's source package and installs it as /usr/local/sbin/criu
# (ahead of /usr/sbin on PATH). Debian 12's criu 3.17 cannot checkpoint on recent kernels
# (vDSO layout), and trixie's binary package does not install on bookworm, so we compile
# trixie's source against bookworm's libraries. Only a deb-src line for trixie is added:
# no trixie binary package ever enters the system. Idempotent: does nothing when the criu
# on PATH already reports version 4 or newer. Run as root.
set -euo pipefail

criu_major() {
  local v
  v=$("$1" --version 2>/dev/null | sed -n 's/^Version: *\([0-9]*\).*/\1/p') || true
  echo "${v:-0}"
}

export DEBIAN_FRONTEND=noninteractive
# What criu runs at dump/restore time: iptables-restore locks the container's network.
if ! dpkg -s iptables >/dev/null 2>&1; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends iptables >/dev/null
fi

if command -v criu >/dev/null 2>&1 && [ "$(criu_major "$(command -v criu)")" -ge 4 ]; then
  echo "install-criu: $(command -v criu) is already $(criu --version | head -1)"
  exit 0
fi

src_list=/etc/apt/sources.list.d/trixie-src.sources
if [ ! -f "$src_list" ]; then
  cat >"$src_list" <<'LIST'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
LIST
fi
apt-get update -qq

# trixie's Build-Depends minus the documentation and python packaging tools, all from bookworm.
build_deps=(build-essential dpkg-dev curl xz-utils pkg-config libbsd-dev libcap-dev libgnutls28-dev libnet1-dev
  libnftables-dev libnl-3-dev libprotobuf-c-dev libprotobuf-dev protobuf-c-compiler
  protobuf-compiler uuid-dev python3 python3-protobuf)
apt-get install -y -qq --no-install-recommends "${build_deps[@]}" >/dev/null

work=$(mktemp -d /var/tmp/criu-build.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"
fetch_source() {
  # The normal route: dsc + orig + debian tarball, Debian's patches applied by dpkg-source.
  if apt-get source -qq --only-source criu/trixie >/dev/null 2>&1; then
    return
  fi
  # Some mirrors/proxies only serve part of the pool (seen here: the .dsc answers 404 while
  # the orig tarball is there). Fall back to the upstream tarball named in trixie's signed
  # Sources index, verified against the index's SHA-256.
  echo "install-criu: apt-get source failed; fetching the orig tarball from the pool" >&2
  local meta dir line sum name
  # The stanza of the criu 4 source package (only trixie's deb-src carries one).
  meta=$(apt-cache showsrc --only-source criu | awk '/^Package:/{keep=0} /^Version: *4/{keep=1} keep' )
  dir=$(sed -n 's/^Directory: *//p' <<<"$meta" | head -1)
  line=$(sed -n '/^Checksums-Sha256:/,/^[^ ]/p' <<<"$meta" | grep -E ' criu_4[^ ]*\.orig\.tar\.[a-z]+$' | head -1)
  read -r sum _ name <<<"$line"
  [ -n "$name" ] || { echo "install-criu: no criu 4 orig tarball in trixie's index" >&2; exit 1; }
  curl -fsSL -o "$name" "http://deb.debian.org/debian/$dir/$name"
  echo "$sum  $name" | sha256sum -c --quiet -
  tar xf "$name"
}
fetch_source
cd criu-4*/
# Only the criu binary: the documentation needs asciidoc/xmlto, the python tools are not used.
make -j"$(nproc)" criu >/dev/null
install -D -m 0755 criu/criu /usr/local/sbin/criu
hash -r
echo "install-criu: installed $(/usr/local/sbin/criu --version | head -1) at /usr/local/sbin/criu"
/usr/local/sbin/criu check || echo "install-criu: warning: 'criu check' fails on this machine" >&2
