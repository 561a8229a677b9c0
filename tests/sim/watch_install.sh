# pvback-watch's install rules (`cmake --install`, run here for the
# xenstore-watch directory only, into a scratch DESTDIR): every file lands
# where xl, systemd and man look, the installed scripts and programs work
# from there, and the unit and the default config agree with the binary.
set -euo pipefail
: "${PVBACK_BIN:?}"
fail() {
    echo "FAIL: $*" >&2
    exit 1
}
BUILD=$(cd "$PVBACK_BIN/.." && pwd)
DEST=$(mktemp -d /tmp/pvback-install.XXXXXX)
trap 'rm -rf "$DEST"' EXIT

DESTDIR="$DEST" cmake -P "$BUILD/xenstore-watch/cmake_install.cmake" >"$DEST.log" 2>&1 ||
    { cat "$DEST.log" >&2; rm -f "$DEST.log"; fail "cmake install"; }
rm -f "$DEST.log"
prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$BUILD/CMakeCache.txt")
sysconf=$(sed -n 's/^CMAKE_INSTALL_SYSCONFDIR:PATH=//p' "$BUILD/CMakeCache.txt")
case "$sysconf" in /*) ;; *) [ "$prefix" = /usr ] && sysconf=/etc || sysconf=$prefix/$sysconf ;; esac

for f in "$prefix/sbin/pvback-watch" "$prefix/sbin/pvback-ctl" \
    /etc/xen/scripts/block-pvback /etc/xen/scripts/vif-pvback; do
    [ -x "$DEST$f" ] || fail "$f not installed executable"
done
for f in /etc/xen/scripts/pvback-hotplug-common.sh /lib/systemd/system/pvback-watch.service \
    "$sysconf/pvback/watch.conf" "$prefix/share/man/man8/pvback-watch.8" \
    "$prefix/share/man/man8/pvback-ctl.8" "$prefix/share/man/man8/block-pvback.8" \
    "$prefix/share/man/man8/vif-pvback.8"; do
    [ -f "$DEST$f" ] || fail "$f not installed"
done
# nothing else, and nothing outside the expected places
n=$(find "$DEST" -type f | wc -l)
[ "$n" = 11 ] || fail "expected 11 files, got $n: $(find "$DEST" -type f)"

# the unit starts the installed binary; the binary reads the installed config
grep -qx "ExecStart=$prefix/sbin/pvback-watch" "$DEST/lib/systemd/system/pvback-watch.service" ||
    fail "unit ExecStart: $(grep ExecStart "$DEST/lib/systemd/system/pvback-watch.service")"
"$DEST$prefix/sbin/pvback-watch" --help | grep -q "The config file is $sysconf/pvback/watch.conf" ||
    fail "pvback-watch's default config is not the installed one"
# the installed config is all comments: defaults, and it parses
out=$("$DEST$prefix/sbin/pvback-watch" --config "$DEST$sysconf/pvback/watch.conf" --restart-limit x 2>&1) &&
    fail "bad option accepted"
[ "$out" = "pvback-watch: restart-limit 'x': expected a number from 1 to 1000" ] ||
    fail "installed watch.conf did not parse: $out"
# the installed scripts find their shared part
out=$(env -u XENBUS_PATH "$DEST/etc/xen/scripts/block-pvback" add 2>&1) && fail "script ran"
[[ $out == *"XENBUS_PATH is not set"* ]] || fail "installed block-pvback: $out"
out=$(env -u XENBUS_PATH "$DEST/etc/xen/scripts/vif-pvback" online 2>&1) && fail "script ran"
[[ $out == *"XENBUS_PATH is not set"* ]] || fail "installed vif-pvback: $out"
# the man pages render without warnings
command -v man >/dev/null && for m in "$DEST$prefix"/share/man/man8/*.8; do
    w=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$m" 2>&1 >/dev/null)
    [ -z "$w" ] || fail "$m: $w"
done
echo PASS
