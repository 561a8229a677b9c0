#!/usr/bin/env bash
# The iSCSI storage driver against a real tgtd on loopback: data lands in the
# LUN's backing file, flush and UNMAP (reads back zeros), CHAP from a secrets
# file, a target crash and restart in the middle of I/O costs no request, a
# target that stays away past the timeout fails requests, and every kind of
# bad configuration fails with a message naming what is wrong.
source "$PVBACK_SRC/tests/sim/lib.sh"
source "$PVBACK_SRC/tests/sim/lib_servers.sh"
trap srv_cleanup EXIT

srv_tgtd_start 64M
echo "== I/O, flush, discard"
remote_check io "$SRV_TGT_URL" "$SRV_DIR/lun.img" || fail "io on $SRV_TGT_URL"

echo "== bad configurations"
expect_open_error "iscsi://127.0.0.1:$SRV_TGT_PORT/$SRV_TGT_IQN" "iSCSI URL" "target-iqn/lun"
expect_open_error "iscsi://127.0.0.1:$SRV_TGT_PORT/$SRV_TGT_IQN/x1" "invalid LUN 'x1'"
expect_open_error "iscsi://127.0.0.1:99999/$SRV_TGT_IQN/1" "invalid port '99999'"
dead=$(srv_free_port)
expect_open_error "iscsi://127.0.0.1:$dead/$SRV_TGT_IQN/1" "cannot reach 127.0.0.1 port $dead" \
    "Connection refused"
expect_open_error "iscsi://127.0.0.1:$SRV_TGT_PORT/${SRV_TGT_IQN}-nope/1" "${SRV_TGT_IQN}-nope" \
    "Target not found"
expect_open_error "iscsi://127.0.0.1:$SRV_TGT_PORT/$SRV_TGT_IQN/5" "LOGICAL_UNIT_NOT_SUPPORTED"

echo "== CHAP"
srv_tgtadm --op new --mode account --user pvuser --password s3cret-pass
srv_tgtadm --op bind --mode account --tid 1 --user pvuser
expect_open_error "$SRV_TGT_URL" "login to target $SRV_TGT_IQN" "Authentication failure"
printf '# target user password\n%s pvuser wrong-pass\n' "$SRV_TGT_IQN" >"$SRV_DIR/secrets"
chmod 600 "$SRV_DIR/secrets"
REMOTE_CHAP_FILE=$SRV_DIR/secrets expect_open_error "$SRV_TGT_URL" "Authentication failure"
printf 'iqn.other.target u p\n* pvuser s3cret-pass\n' >"$SRV_DIR/secrets"
REMOTE_CHAP_FILE=$SRV_DIR/secrets remote_check io "$SRV_TGT_URL" "$SRV_DIR/lun.img" ||
    fail "io with CHAP from the secrets file"
printf 'this line is wrong\n' >"$SRV_DIR/secrets"
REMOTE_CHAP_FILE=$SRV_DIR/secrets expect_open_error "$SRV_TGT_URL" "$SRV_DIR/secrets line 1"
REMOTE_CHAP_FILE=$SRV_DIR/none expect_open_error "$SRV_TGT_URL" "$SRV_DIR/none" \
    "No such file"
# Credentials in the URL work too (with a warning), and never appear in messages.
out=$(remote_check io "iscsi://pvuser%s3cret-pass@127.0.0.1:$SRV_TGT_PORT/$SRV_TGT_IQN/1" \
    "$SRV_DIR/lun.img" 2>&1) || fail "io with CHAP from the URL: $out"
grep -q "prefer a secrets file" <<<"$out" || fail "no warning about URL credentials: $out"
! grep -q s3cret <<<"$out" || fail "the password appears in the output: $out"
srv_tgtd_stop

echo "== target crash and restart during I/O"
srv_tgtd_start 64M
remote_check soak "$SRV_TGT_URL" "$SRV_DIR/lun.img" 10 >"$SRV_DIR/soak.log" 2>&1 &
soak=$!
soak_started
sleep 2
srv_tgtd_restart 2
wait $soak || { cat "$SRV_DIR/soak.log" >&2; fail "I/O failed across a target restart"; }
grep -q "session lost" "$SRV_DIR/soak.log" || { cat "$SRV_DIR/soak.log" >&2; fail "the session never dropped: the test proved nothing"; }
tail -n 1 "$SRV_DIR/soak.log"

echo "== target away for a while (libiscsi gives up on the session: a fresh login)"
REMOTE_TIMEOUT=30 remote_check soak "$SRV_TGT_URL" "$SRV_DIR/lun.img" 16 >"$SRV_DIR/soak.log" 2>&1 &
soak=$!
soak_started
sleep 1
srv_tgtd_restart 8
wait $soak || { cat "$SRV_DIR/soak.log" >&2; fail "I/O failed across an 8 s outage"; }
lines=$(wc -l <"$SRV_DIR/soak.log")
[ "$lines" -lt 100 ] || { tail -n 20 "$SRV_DIR/soak.log" >&2; fail "$lines log lines for one outage: a busy loop?"; }
tail -n 1 "$SRV_DIR/soak.log"

echo "== idle store, target away past the timeout, then back: service resumes"
REMOTE_TIMEOUT=3 remote_check idle "$SRV_TGT_URL" "$SRV_DIR/lun.img" 14 >"$SRV_DIR/idle.log" 2>&1 &
idle=$!
grep_started() { grep -q " bytes" "$SRV_DIR/idle.log"; }
wait_for 60 "the idle check's open" grep_started
sleep 1
srv_tgtd_kill
sleep 6
srv_tgtd_start 64M
wait $idle || { cat "$SRV_DIR/idle.log" >&2; fail "no service after the target came back"; }
grep -q "no session for 3 s" "$SRV_DIR/idle.log" || { cat "$SRV_DIR/idle.log" >&2; fail "the timeout never passed: the test proved nothing"; }
lines=$(wc -l <"$SRV_DIR/idle.log")
[ "$lines" -lt 50 ] || { tail -n 20 "$SRV_DIR/idle.log" >&2; fail "$lines log lines for one outage: a busy loop?"; }
tail -n 1 "$SRV_DIR/idle.log"

echo "== target away longer than the timeout"
REMOTE_TIMEOUT=2 remote_check soak "$SRV_TGT_URL" "$SRV_DIR/lun.img" 8 >"$SRV_DIR/soak.log" 2>&1 &
soak=$!
soak_started
sleep 1
srv_tgtd_kill
if wait $soak; then
    fail "I/O succeeded with the target gone past the timeout"
fi
grep -q "no session for 2 s" "$SRV_DIR/soak.log" || { cat "$SRV_DIR/soak.log" >&2; fail "no timeout message"; }
grep -q "failed: -5" "$SRV_DIR/soak.log" || { cat "$SRV_DIR/soak.log" >&2; fail "requests did not fail with EIO"; }
echo "ok: requests failed with EIO after the timeout"
echo "PASS"
