# .ci/wine/_mounts.sh: mounting and tearing down the Wine chroot (sourced by setup.sh and run.sh).

# The environment deno.exe runs with: nothing from the host.
WINE_ENV=(HOME=/root PATH=/usr/bin:/bin WINEPREFIX=/wine/prefix WINEDEBUG=-all DISPLAY=
  XDG_RUNTIME_DIR=/tmp NO_COLOR=1)

# Mount points at or under $1, deepest first.
wine_mounts_under() {
  awk -v r="$1" '$2 == r || index($2, r "/") == 1 { print $2 }' /proc/mounts | sort -r
}

# Processes whose root is the chroot $1.
wine_chroot_pids() {
  local p
  for p in /proc/[0-9]*; do
    [ "$(readlink "$p/root" 2>/dev/null)" = "$1" ] && echo "${p#/proc/}"
  done
  return 0
}

# wine_mount ROOT: proc, /dev (rbind, rslave) and a fresh tmpfs /tmp.
wine_mount() {
  local r=$1
  mountpoint -q "$r/proc" || mount -t proc proc "$r/proc"
  if ! mountpoint -q "$r/dev"; then mount --rbind /dev "$r/dev" && mount --make-rslave "$r/dev"; fi
  mountpoint -q "$r/tmp" || mount -t tmpfs -o mode=1777 tmpfs "$r/tmp"
}

# wine_teardown ROOT PREFIX: stop Wine (wineserver and winedevice.exe outlive deno.exe
# and keep /dev busy), wait for the chroot to empty, drop the 97 MB node.exe.tmp-*
# copies deno.exe leaves in the prefix, unmount deepest first, check /proc/mounts.
wine_teardown() {
  local r=$1 pfx=$2 i pids m
  if [ -x "$r/usr/lib/wine/wineserver" ] && mountpoint -q "$r/proc" 2>/dev/null; then
    chroot "$r" env -i WINEPREFIX="$pfx" /usr/lib/wine/wineserver -k 2>/dev/null || true
  fi
  pids=$(wine_chroot_pids "$r")
  for i in $(seq 1 50); do
    [ -z "$pids" ] && break
    sleep 0.2
    pids=$(wine_chroot_pids "$r")
  done
  if [ -n "$pids" ]; then
    echo "wine: killing processes left in the chroot: $(echo $pids)" >&2
    # shellcheck disable=SC2086
    kill -9 $pids 2>/dev/null || true
    sleep 0.5
  fi
  rm -f "$r$pfx"/drive_c/users/*/AppData/Local/deno/node_compat_bin/node.exe.tmp-* 2>/dev/null || true
  for m in $(wine_mounts_under "$r"); do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done
  if [ -n "$(wine_mounts_under "$r")" ]; then
    echo "wine: still mounted: $(wine_mounts_under "$r" | tr '\n' ' ')" >&2
    return 1
  fi
  return 0
}
