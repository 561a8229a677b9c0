#!/usr/bin/env bash
# Remote storage benchmark: fio in the simulated guest through pvback-blk on
# an iSCSI LUN (tgtd) and an NFS image (nfs-ganesha), against the client
# library's own tool on the same target in the same run:
#   iSCSI: iscsi-perf (libiscsi-bin), random 4 KiB reads at 32 in flight and
#          sequential 1 MiB reads at 8 in flight, for the same time;
#   NFS:   nfs-cp (libnfs-utils) copying the image out, against a 1 MiB
#          sequential read of the whole disk by fio.
# Prints one line per result: RATIO <name> <value> (<what it divides>).
#   bench/blk-remote.sh, or bench/run blk (PVBACK_BIN defaults to build/bin)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export PVBACK_SRC=${PVBACK_SRC:-$(cd "$here/.." && pwd)}
export PVBACK_BIN=${PVBACK_BIN:-$PVBACK_SRC/build/bin}
SECS=${REMOTE_BENCH_SECS:-5}
source "$PVBACK_SRC/tests/sim/blk_helpers.bash"
source "$PVBACK_SRC/tests/sim/lib_servers.sh"

engine=$PVBACK_BIN/pvback-blkfront-fio.so
[ -f "$engine" ] || fail "fio engine not built: run scripts/fetch-fio-src, then reconfigure"
for t in fio iscsi-perf nfs-cp; do
    command -v $t >/dev/null || fail "$t is not installed (scripts/install-deps)"
done

bench_cleanup() {
    local rc=$?
    set +e # a cleanup goes all the way; "(exit $rc)" below only hands rc on
    srv_cleanup
    (exit $rc)
    blk_cleanup
}
blk_start_sim
trap bench_cleanup EXIT
srv_tgtd_start 256M
srv_nfs_start 256M
blk_start_backend

# guest_fio DOM JOB-OPTIONS...: a fio job in guest DOM; prints read IOPS and
# read bytes/s, from fio's JSON.
guest_fio() {
    local dom=$1
    shift
    XENSIM_DOMID=$dom XENSTORED_PATH="$SIM_DIR/dom$dom.sock" timeout 300 \
        fio --ioengine=external:"$engine" --filename=xvda --name=bench --output-format=json \
        "$@" >"$SIM_DIR/fio.json" 2>"$SIM_DIR/fio.err" ||
        { cat "$SIM_DIR/fio.err" >&2; fail "fio $*"; }
    python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["jobs"][0]["read"]; print(r["iops"], r["bw_bytes"])' \
        "$SIM_DIR/fio.json"
}

# perf_iops ARGS...: iscsi-perf's final average IOPS.
perf_iops() {
    timeout $((SECS + 30)) iscsi-perf -t "$SECS" "$@" "$SRV_TGT_URL" >"$SIM_DIR/perf.log" 2>&1 ||
        { cat "$SIM_DIR/perf.log" >&2; fail "iscsi-perf $*"; }
    tr '\r' '\n' <"$SIM_DIR/perf.log" | sed -n 's/^iops average \([0-9]*\).*/\1/p' | tail -n 1
}

ratio() { python3 -c 'import sys; print("%.3f" % (float(sys.argv[1]) / float(sys.argv[2])))' "$1" "$2"; }

# iSCSI
dom=$(blk_guest bench-iscsi)
blk_add_disk "$dom" 51712 "$SRV_TGT_URL" w
blk_wait_state "$dom" 51712 2
read -r pv_iops _ < <(guest_fio "$dom" --rw=randread --bs=4k --iodepth=32 --time_based \
    --runtime="$SECS" --size=256M)
blk_wait_state "$dom" 51712 6
lib_iops=$(perf_iops -r -m 32 -b 8)
echo "RATIO remote_iscsi_randread_4k_qd32 $(ratio "$pv_iops" "$lib_iops") (pvback-blk fio IOPS $pv_iops / iscsi-perf IOPS $lib_iops)"
read -r pv_iops _ < <(guest_fio "$dom" --rw=read --bs=1m --iodepth=8 --time_based \
    --runtime="$SECS" --size=256M)
blk_wait_state "$dom" 51712 6
lib_iops=$(perf_iops -m 8 -b 2048)
echo "RATIO remote_iscsi_seqread_1m_qd8 $(ratio "$pv_iops" "$lib_iops") (pvback-blk fio MiB/s $pv_iops / iscsi-perf MiB/s $lib_iops)"

# NFS (v3): the whole image, sequentially.
dom=$(blk_guest bench-nfs)
blk_add_disk "$dom" 51712 "$SRV_NFS3_URL" w
blk_wait_state "$dom" 51712 2
read -r _ pv_bw < <(guest_fio "$dom" --rw=read --bs=1m --iodepth=8 --size=256M)
blk_wait_state "$dom" 51712 6
start=$(date +%s.%N)
nfs-cp "$SRV_NFS3_URL" "$SIM_DIR/copy.raw" >/dev/null 2>&1 || fail "nfs-cp"
end=$(date +%s.%N)
lib_bw=$(python3 -c 'import sys; print(268435456 / (float(sys.argv[2]) - float(sys.argv[1])))' "$start" "$end")
rm -f "$SIM_DIR/copy.raw"
echo "RATIO remote_nfs_seqread_1m $(ratio "$pv_bw" "$lib_bw") (pvback-blk fio bytes/s $pv_bw / nfs-cp bytes/s ${lib_bw%.*})"
blk_stop_backend
