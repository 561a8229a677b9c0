#!/usr/bin/env bash
# Remote storage benchmark: fio in the simulated guest through pvback-blk on
# an iSCSI LUN (tgtd) and an NFS image (nfs-ganesha), against the client
# library's own tool on the same target in the same run:
#   iSCSI: iscsi-perf (libiscsi-bin), random 4 KiB reads at 32 in flight and
#          sequential 1 MiB reads at 8 in flight, for the same time;
#   NFS:   nfs-cat (libnfs-utils) reading the image, against 1 MiB
#          sequential reads at 8 in flight by fio (see bench_nfs).
# Prints one line per result: RATIO <name> <value> (<what it divides>).
#   bench/blk-remote.sh, bench/run remote, or bench/run blk (PVBACK_BIN
#   defaults to build/bin); REMOTE_BENCH="nfs" (or "iscsi") runs one half.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export PVBACK_SRC=${PVBACK_SRC:-$(cd "$here/.." && pwd)}
export PVBACK_BIN=${PVBACK_BIN:-$PVBACK_SRC/build/bin}
SECS=${REMOTE_BENCH_SECS:-5}
KINDS=${REMOTE_BENCH:-iscsi nfs}
ROUNDS=${REMOTE_BENCH_ROUNDS:-3}
source "$PVBACK_SRC/tests/sim/blk_helpers.bash"
source "$PVBACK_SRC/tests/sim/lib_servers.sh"

engine=$PVBACK_BIN/pvback-blkfront-fio.so
[ -f "$engine" ] || fail "fio engine not built: run scripts/fetch-fio-src, then reconfigure"
for t in fio iscsi-perf nfs-cat; do
    command -v $t >/dev/null || fail "$t is not installed (scripts/install-deps)"
done

blk_start_sim
trap srv_blk_cleanup EXIT
[[ " $KINDS " != *" iscsi "* ]] || srv_tgtd_start 256M
[[ " $KINDS " != *" nfs "* ]] || srv_nfs_start 256M
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

bench_iscsi() {
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
}

# NFS (v3): sequential 1 MiB reads at 8 in flight through pvback-blk against
# nfs-cat (libnfs's own reader: one synchronous 1 MiB READ after another) on
# the same image, each for SECS seconds, in ROUNDS alternating rounds; the
# median ratio and the range are printed. The image holds data (a sparse one
# is read from holes: the server would not touch its disk or page cache), and
# nfs-cat writes to /dev/null (nfs-cp wrote a local copy: its own page-cache
# cost counted against libnfs).
bench_nfs() {
    local size=$((256 << 20)) r ratios=() pv_bw lib_bw bytes start now
    dd if=/dev/urandom of="$SRV_DIR/export/image.raw" bs=1M count=$((size >> 20)) \
        conv=notrunc status=none
    dom=$(blk_guest bench-nfs)
    blk_add_disk "$dom" 51712 "$SRV_NFS3_URL" w
    blk_wait_state "$dom" 51712 2
    for r in $(seq "$ROUNDS"); do
        read -r _ pv_bw < <(guest_fio "$dom" --rw=read --bs=1m --iodepth=8 --time_based \
            --runtime="$SECS" --size=$size)
        blk_wait_state "$dom" 51712 6
        bytes=0 start=$(date +%s%N)
        while :; do
            nfs-cat "$SRV_NFS3_URL" >/dev/null || fail "nfs-cat"
            bytes=$((bytes + size)) now=$(date +%s%N)
            [ $((now - start)) -lt $((SECS * 1000000000)) ] || break
        done
        # In awk: bytes * 10^9 overflows bash's 64-bit integers past 9.2 GB.
        lib_bw=$(awk -v b="$bytes" -v t="$((now - start))" 'BEGIN { printf "%.0f", b * 1e9 / t }')
        ratios+=("$(ratio "$pv_bw" "$lib_bw")")
        echo "# round $r: pvback-blk fio ${pv_bw%.*} B/s, nfs-cat $lib_bw B/s: ${ratios[-1]}"
    done
    python3 - "${ratios[@]}" <<'PY'
import statistics, sys
r = sorted(float(x) for x in sys.argv[1:])
print("RATIO remote_nfs_seqread_1m %.3f (median of %d rounds, range %.3f-%.3f: pvback-blk fio "
      "1 MiB qd8 bytes/s / nfs-cat bytes/s)" % (statistics.median(r), len(r), r[0], r[-1]))
PY
}

for kind in $KINDS; do
    case $kind in
    iscsi | nfs) "bench_$kind" ;;
    *) fail "REMOTE_BENCH: '$kind' is neither iscsi nor nfs" ;;
    esac
done
blk_stop_backend
