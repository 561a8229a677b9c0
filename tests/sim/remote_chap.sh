#!/usr/bin/env bash
# iSCSI CHAP through the disk's chap-file key, the whole way a user takes:
# `xensim create` with an xl disk spec naming chap-file=, tgtd requiring CHAP.
# The right secrets give a working disk (verified I/O); wrong ones, and a
# secrets file that group or others may read, give a xenbus error node that
# says why. The secrets appear nowhere: not in xenstore, not in the log, not
# in an error node.
source "$PVBACK_SRC/tests/sim/blk_helpers.bash"
source "$PVBACK_SRC/tests/sim/lib_servers.sh"

blk_start_sim
trap srv_blk_cleanup EXIT
srv_tgtd_start 16M pvuser s3cret-pass
blk_start_backend
devid=51712

# guest NAME SECRETS-FILE: a guest whose xvda is the LUN, CHAP from the file.
guest() {
    printf 'name="%s"\nmemory=256\ndisk=["vdev=xvda,access=rw,chap-file=%s,script=%s,target=%s"]\n' \
        "$1" "$2" "$PVBACK_SRC/xenstore-watch/hotplug/block-pvback" "$SRV_TGT_URL" \
        >"$SIM_DIR/$1.cfg"
    "$XENSIM" --dir "$SIM_DIR" create "$SIM_DIR/$1.cfg" || fail "xensim create $1"
}

# refused DOMID WORDS...: the guest cannot connect its disk, and the error
# node holds every one of WORDS and no secret.
refused() {
    local dom=$1 msg w
    shift
    blk_wait_state "$dom" $devid 2
    if blk_front "$dom" info >"$SIM_DIR/front-$dom.log" 2>&1; then
        fail "guest $dom connected its disk"
    fi
    msg=$(remote_error_node "$dom" $devid) || exit 1
    for w in "$@"; do
        grep -qF -- "$w" <<<"$msg" || fail "error node '$msg' lacks '$w'"
    done
    ! grep -qE 's3cret|wrong-pass' <<<"$msg" || fail "a secret in the error node: $msg"
    echo "ok: error node: $msg"
}

echo "== the right secrets"
printf '# target user password\n%s pvuser s3cret-pass\n' "$SRV_TGT_IQN" >"$SRV_DIR/chap-ok"
chmod 600 "$SRV_DIR/chap-ok"
dom=$(guest g-ok "$SRV_DIR/chap-ok")
expect_eq "backend chap-file key" "$(blk_be_key "$dom" $devid chap-file)" "$SRV_DIR/chap-ok"
blk_front "$dom" --ops 300 --dump "$SIM_DIR/expect.img" verify >"$SIM_DIR/front.log" 2>&1 ||
    { cat "$SIM_DIR/front.log" >&2; fail "verified I/O with the right secrets"; }
cmp -s "$SIM_DIR/expect.img" "$SRV_DIR/lun.img" || fail "the LUN differs from what the guest wrote"
echo "ok: verified I/O on the LUN with CHAP from chap-file"

echo "== wrong secrets"
printf '%s pvuser wrong-pass\n' "$SRV_TGT_IQN" >"$SRV_DIR/chap-bad"
chmod 600 "$SRV_DIR/chap-bad"
refused "$(guest g-bad "$SRV_DIR/chap-bad")" "login to target $SRV_TGT_IQN" "Authentication failure"

echo "== a secrets file others may read"
cp "$SRV_DIR/chap-ok" "$SRV_DIR/chap-open"
chmod 640 "$SRV_DIR/chap-open"
refused "$(guest g-open "$SRV_DIR/chap-open")" "chap-file $SRV_DIR/chap-open" "mode 0640" "chmod 600"

echo "== a secrets file without the target"
printf 'iqn.other.target pvuser s3cret-pass\n' >"$SRV_DIR/chap-other"
chmod 600 "$SRV_DIR/chap-other"
refused "$(guest g-other "$SRV_DIR/chap-other")" "chap-file $SRV_DIR/chap-other" "$SRV_TGT_IQN"

# Nowhere else either.
! xenstore-ls -f / 2>/dev/null | grep -qE 's3cret|wrong-pass' || fail "a secret in xenstore"
blk_stop_backend
! grep -qE 's3cret|wrong-pass' "$SIM_DIR/blk.log" || fail "a secret in pvback-blk's log"
echo PASS
