#!/usr/bin/env bash
# .ci/wine/setup.sh: build (once) the Wine environment the Windows tests run in:
# a Debian 13 (trixie) minbase chroot with Wine 10 (wine64) and the Windows
# build of Deno (deno.exe of the pinned version, from npm's @deno/win32-x64),
# cached under .cache/wine/ (git-ignored). Linux x86_64 host, run as root.
#
# Idempotent: each step leaves a stamp and is skipped once done; an interrupted
# step is redone from its start (a half-made chroot is rebuilt). Safe to
# interrupt: every mount is undone on exit, also on error or Ctrl-C.
#
#   WINE_CACHE    cache folder           (default: <checkout>/.cache/wine)
#   DENO_VERSION  deno.exe version       (default: the version .ci/run pins, 2.9.6)
#   MIRROR        Debian mirror          (default: http://deb.debian.org/debian)
#
# Then: .ci/wine/run.sh DIR deno-args...
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd -P)
CHECKOUT=$(cd "$HERE/../.." && pwd -P)
CACHE=$(realpath -m "${WINE_CACHE:-$CHECKOUT/.cache/wine}")
R=$CACHE/root
DENO_VERSION=${DENO_VERSION:-2.9.6}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
PREFIX=/wine/prefix # inside the chroot

say() { echo "wine/setup.sh: $*" >&2; }
if [ "$(id -u)" != 0 ]; then
  say "must run as root (it runs debootstrap, chroot and mount); try: sudo $0"
  exit 2
fi
case "$(uname -m)" in x86_64) ;; *) say "needs an x86_64 host, not $(uname -m)"; exit 2 ;; esac

mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock 9 # one setup.sh / run.sh at a time: they share the mounts and the Wine prefix

t0=$(date +%s)
step() { echo "wine/setup.sh: $* (+$(($(date +%s) - t0)) s)"; }

# shellcheck source=_mounts.sh
. "$HERE/_mounts.sh"

trap 'wine_teardown "$R" "$PREFIX" || true' EXIT
trap 'exit 130' INT TERM
wine_teardown "$R" "$PREFIX" # leftovers of an interrupted earlier run

# 1. debootstrap on the host
if ! command -v debootstrap >/dev/null 2>&1; then
  step "apt-get install debootstrap"
  apt-get install -y --no-install-recommends debootstrap >/dev/null ||
    { apt-get update -qq && apt-get install -y --no-install-recommends debootstrap >/dev/null; }
fi

# 2. the chroot
if [ ! -e "$R/.stamp-debootstrap" ]; then
  step "debootstrap trixie (minbase) into $R"
  # never delete through a mount (a bind-mounted checkout shares the file system)
  [ -z "$(wine_mounts_under "$R")" ] || { say "still mounted under $R: not deleting it"; exit 1; }
  rm -rf --one-file-system "$R"
  debootstrap --variant=minbase --include=ca-certificates trixie "$R" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1 ||
    { say "debootstrap failed; see $CACHE/debootstrap.log"; exit 1; }
  touch "$R/.stamp-debootstrap"
fi
# debootstrap writes no /etc/hosts: without one "localhost" does not resolve (GetAddrInfoW 11002)
[ -s "$R/etc/hosts" ] || printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$R/etc/hosts"

wine_mount "$R"

# 3. Wine 10 inside the chroot
if [ ! -e "$R/.stamp-wine" ] || [ ! -x "$R/usr/lib/wine/wine64" ]; then
  step "apt-get install wine64 (inside the chroot)"
  chroot "$R" apt-get update -qq
  chroot "$R" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wine64 >/dev/null
  chroot "$R" apt-get clean
  touch "$R/.stamp-wine"
fi
# The services database (/etc/services), which Wine's GetAddrInfoW/GetNameInfoW read for
# service names ("http" -> 80), as Windows reads its own drivers\etc\services.
if [ ! -s "$R/etc/services" ]; then
  step "apt-get install netbase (inside the chroot)"
  chroot "$R" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends netbase >/dev/null ||
    { chroot "$R" apt-get update -qq && chroot "$R" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends netbase >/dev/null; }
  chroot "$R" apt-get clean
fi

# 4. deno.exe of the pinned version
mkdir -p "$R/wine" "$R/src"
if [ "$(cat "$R/wine/deno.version" 2>/dev/null || true)" != "$DENO_VERSION" ] || [ ! -f "$R/wine/deno.exe" ]; then
  step "npm pack @deno/win32-x64@$DENO_VERSION"
  command -v npm >/dev/null 2>&1 || { say "npm is needed to fetch deno.exe"; exit 1; }
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "@deno/win32-x64@$DENO_VERSION" >/dev/null) ||
    { rm -rf "$tmp"; say "npm pack @deno/win32-x64@$DENO_VERSION failed"; exit 1; }
  tar xzf "$tmp"/deno-win32-x64-*.tgz -C "$tmp" package/deno.exe
  install -m 0755 "$tmp/package/deno.exe" "$R/wine/deno.exe.new"
  mv -f "$R/wine/deno.exe.new" "$R/wine/deno.exe"
  rm -rf "$tmp"
  # the prefix keeps a copy of the previous deno.exe as its node compat binary
  rm -rf "$R$PREFIX"/drive_c/users/*/AppData/Local/deno/node_compat_bin
  echo "$DENO_VERSION" >"$R/wine/deno.version"
fi

# 5. the Wine prefix (made by the first run) and a smoke test
smoke() {
  chroot "$R" env -i "${WINE_ENV[@]}" /usr/lib/wine/wine64 /wine/deno.exe eval \
    'console.log(Deno.version.deno, Deno.build.os, Deno.build.target)' 2>/dev/null || true
}
want="$DENO_VERSION windows x86_64-pc-windows-msvc"
[ -e "$R$PREFIX/system.reg" ] || step "create the Wine prefix"
out=$(smoke)
if [ "$out" != "$want" ]; then
  # a prefix left half-made by an interrupted run: make it again, once
  step "smoke test printed '$out': making the Wine prefix again"
  wine_teardown "$R" "$PREFIX"
  [ -z "$(wine_mounts_under "$R")" ] || { say "still mounted under $R: not deleting the prefix"; exit 1; }
  rm -rf --one-file-system "$R$PREFIX"
  wine_mount "$R"
  out=$(smoke)
  [ "$out" = "$want" ] || { say "smoke test failed: deno.exe printed '$out', not '$want'"; exit 1; }
fi

wine_teardown "$R" "$PREFIX"
trap - EXIT
step "ready: $(chroot "$R" dpkg-query -W -f '${Package} ${Version}' wine64), deno.exe $out, $(du -shx "$R" | cut -f1) in $R"
