#!/usr/bin/env bash
# .ci/wine/run.sh DIR DENO-ARGS...: run `deno.exe DENO-ARGS...` under Wine in the chroot
# that .ci/wine/setup.sh made, with DIR bind-mounted at /src (Z:\src) as the working
# directory. Every mount is undone afterwards, also on error, timeout or Ctrl-C.
# Exit status: deno.exe's; 124 on timeout; 2 for a usage error; 99 if the mounts failed.
#
#   WINE_CACHE    cache folder setup.sh used    (default: <checkout>/.cache/wine)
#   RUN_TIMEOUT   seconds before deno.exe is killed (default 900; 0 = no limit)
#   RUN_NET=lo    run in a private network namespace with only loopback
#   RUN_ENV       extra "NAME=value ..." for deno.exe (no spaces inside values)
#
# e.g.  .ci/wine/run.sh . test --allow-all tests/windows/
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd -P)
CHECKOUT=$(cd "$HERE/../.." && pwd -P)
CACHE=$(realpath -m "${WINE_CACHE:-$CHECKOUT/.cache/wine}")
R=$CACHE/root
PREFIX=/wine/prefix

say() { echo "wine/run.sh: $*" >&2; }
[ $# -ge 2 ] || { say "usage: $0 DIR deno-args..."; exit 2; }
if [ "$(id -u)" != 0 ]; then say "must run as root (it uses chroot and mount); try: sudo $0 $*"; exit 2; fi
DIR=$(realpath -e "$1" 2>/dev/null) && [ -d "$DIR" ] || { say "not a directory: $1"; exit 2; }
shift
if [ ! -x "$R/usr/lib/wine/wine64" ] || [ ! -f "$R/wine/deno.exe" ] || [ ! -e "$R/.stamp-wine" ]; then
  say "no Wine environment in $R: run .ci/wine/setup.sh first"
  exit 2
fi
TIMEOUT=${RUN_TIMEOUT:-900}

exec 9>"$CACHE/.lock"
flock 9 # one run at a time: the mounts and the Wine prefix are shared

# shellcheck source=_mounts.sh
. "$HERE/_mounts.sh"

rc=0
child=
trap 'wine_teardown "$R" "$PREFIX" || rc=99; exit $rc' EXIT
# On a signal: stop deno.exe (wine_teardown then ends every Wine process) and exit 130.
trap 'rc=130; [ -n "$child" ] && kill -TERM "$child" 2>/dev/null; exit' INT TERM HUP

wine_teardown "$R" "$PREFIX" || exit 99 # leftovers of a killed earlier run
{ wine_mount "$R" && mkdir -p "$R/src" && mount --bind "$DIR" "$R/src"; } ||
  { say "mounting failed"; rc=99; exit; }

ENVV=("${WINE_ENV[@]}")
# shellcheck disable=SC2206
[ -n "${RUN_ENV:-}" ] && ENVV+=(${RUN_ENV})
CMD=(chroot "$R" env -i "${ENVV[@]}" /bin/sh -c 'cd /src && exec /usr/lib/wine/wine64 /wine/deno.exe "$@"' deno)
if [ "${RUN_NET:-}" = lo ]; then
  CMD=(unshare --net /bin/sh -c 'ip link set lo up 2>/dev/null || ifconfig lo up; exec "$@"' sh "${CMD[@]}")
fi
if [ "$TIMEOUT" != 0 ]; then
  CMD=(timeout --kill-after=10 "$TIMEOUT" "${CMD[@]}")
fi
# In the background so that a signal to this script is handled at once (bash runs traps
# only between commands, and `wait` is one it interrupts); stdin stays the caller's.
"${CMD[@]}" "$@" <&0 &
child=$!
wait "$child"
rc=$?
child=
[ "$rc" = 124 ] && say "deno.exe timed out after ${TIMEOUT} s"
exit $rc
