#!/usr/bin/env bash
# The NFS storage driver against a real nfs-ganesha (VFS) with rpcbind on
# loopback, over NFSv3 and NFSv4: data lands in the exported image file,
# flush (COMMIT) works, discard is refused, a server crash and restart in the
# middle of I/O costs no request, a server that stays away past the timeout
# fails requests, and bad URLs, unreachable servers and missing exports or
# images fail with a message naming what is wrong.
source "$PVBACK_SRC/tests/sim/lib.sh"
source "$PVBACK_SRC/tests/sim/lib_servers.sh"
trap srv_cleanup EXIT

srv_nfs_start 64M
img=$SRV_DIR/export/image.raw
for url in "$SRV_NFS3_URL" "$SRV_NFS4_URL"; do
    echo "== I/O and flush: $url"
    remote_check io "$url" "$img" || fail "io on $url"
done

echo "== bad configurations"
expect_open_error "nfs://127.0.0.1" "NFS URL" "nfs://server[:port]/path/image"
expect_open_error "nfs://127.0.0.1/a/../b" "'..' component"
expect_open_error "$SRV_NFS3_URL?version=5" "unsupported query 'version=5'"
expect_open_error "nfs://127.0.0.2/x/image.raw?version=4" "cannot reach 127.0.0.2 port 2049"
expect_open_error "nfs://127.0.0.1/no/such/export/image.raw" "mount of 127.0.0.1:/no/such/export"
expect_open_error "nfs://127.0.0.1$SRV_DIR/export/missing.raw" "cannot open missing.raw"
mkdir "$SRV_DIR/export/dir.raw"
expect_open_error "nfs://127.0.0.1$SRV_DIR/export/dir.raw" "not a regular file"

for url in "$SRV_NFS3_URL" "$SRV_NFS4_URL"; do
    echo "== server crash and restart during I/O: $url"
    remote_check soak "$url" "$img" 10 >"$SRV_DIR/soak.log" 2>&1 &
    soak=$!
    soak_started
    sleep 2
    srv_nfs_restart 2
    wait $soak || { cat "$SRV_DIR/soak.log" >&2; fail "I/O failed across a server restart"; }
    grep -q "session lost" "$SRV_DIR/soak.log" ||
        { cat "$SRV_DIR/soak.log" >&2; fail "the session never dropped: the test proved nothing"; }
    grep -q "session re-established" "$SRV_DIR/soak.log" || fail "no re-established session"
    tail -n 1 "$SRV_DIR/soak.log"
done

echo "== idle store, server away past the timeout, then back: service resumes"
REMOTE_TIMEOUT=3 remote_check idle "$SRV_NFS3_URL" "$img" 14 >"$SRV_DIR/idle.log" 2>&1 &
idle=$!
grep_started() { grep -q " bytes" "$SRV_DIR/idle.log"; }
wait_for 60 "the idle check's open" grep_started
sleep 1
srv_nfs_kill
sleep 6
srv_nfs_start 64M
wait $idle || { cat "$SRV_DIR/idle.log" >&2; fail "no service after the server came back"; }
grep -q "no session for 3 s" "$SRV_DIR/idle.log" || { cat "$SRV_DIR/idle.log" >&2; fail "the timeout never passed: the test proved nothing"; }
lines=$(wc -l <"$SRV_DIR/idle.log")
[ "$lines" -lt 50 ] || { tail -n 20 "$SRV_DIR/idle.log" >&2; fail "$lines log lines for one outage: a busy loop?"; }
tail -n 1 "$SRV_DIR/idle.log"

echo "== server away longer than the timeout"
REMOTE_TIMEOUT=2 remote_check soak "$SRV_NFS3_URL" "$img" 8 >"$SRV_DIR/soak.log" 2>&1 &
soak=$!
soak_started
sleep 1
srv_nfs_kill
if wait $soak; then
    fail "I/O succeeded with the server gone past the timeout"
fi
grep -q "no session for 2 s" "$SRV_DIR/soak.log" || { cat "$SRV_DIR/soak.log" >&2; fail "no timeout message"; }
grep -q "failed: -5" "$SRV_DIR/soak.log" || { cat "$SRV_DIR/soak.log" >&2; fail "requests did not fail with EIO"; }
echo "ok: requests failed with EIO after the timeout"
echo "PASS"
