#!/usr/bin/env bash
# Real fio jobs in the simulated guest, through pvback-blk, with
# verify=crc32c: random and sequential writes (verified by reading back),
# 512-byte and 4 KiB alignment, 512 B to 1 MiB blocks (indirect descriptors),
# iodepth 1 to 128, one and four queues, with and without persistent grants.
# After the guest detaches, fio checks the image file itself (verify_only on
# the host): it holds exactly what the guest wrote.
# BLK_FIO_IMG_DIR puts the image elsewhere, BLK_FIO_BACKEND_ARGS are
# pvback-blk's options, BLK_FIO_ENGINE is the storage engine pvback-blk
# must report having chosen (blk_fio_tmpfs.sh sets them), and
# BLK_FIO_EXPECT_LOG, BLK_FIO_EXPECT_LOG2 are patterns (grep -E) its log
# must hold at the end (blk_fio_contig.sh).
source "$PVBACK_SRC/tests/sim/blk_helpers.bash"

engine=$PVBACK_BIN/pvback-blkfront-fio.so
[ -f "$engine" ] || fail "fio engine not built: run scripts/fetch-fio-src, then reconfigure"
command -v fio >/dev/null || fail "fio is not installed"

# A sanitizer build's engine needs the sanitizer runtimes loaded first into
# the (uninstrumented) fio; fio's own allocations are not ours to judge.
preload=()
if ldd "$engine" | grep -q libasan; then
    preload=(env "LD_PRELOAD=$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libubsan.so)"
        ASAN_OPTIONS=detect_leaks=0)
fi

blk_start_sim
dom=$(blk_guest g1)
img=${BLK_FIO_IMG_DIR:-$SIM_DIR}/disk.img
truncate -s 48M "$img"
blk_add_disk "$dom" 51712 "$img" w
# shellcheck disable=SC2086 # options, split on purpose
blk_start_backend ${BLK_FIO_BACKEND_ARGS:-}
blk_wait_state "$dom" 51712 2

n=0
while read -r name opts; do
    n=$((n + 1))
    # The engine's own options go to the guest's run only.
    generic=$(echo "$opts" | sed -E 's/--(queues|ring_order|persistent|indirect)=[^ ]*//g')
    job="--name=$name --size=32M --randseed=$n --verify=crc32c $generic"
    # shellcheck disable=SC2086
    XENSIM_DOMID=$dom XENSTORED_PATH="$SIM_DIR/dom$dom.sock" timeout 300 "${preload[@]}" \
        fio --ioengine=external:"$engine" --filename=xvda --do_verify=1 $job $opts \
        >"$SIM_DIR/fio.log" 2>&1 || { cat "$SIM_DIR/fio.log" >&2; fail "fio $name"; }
    grep -q 'err= 0' "$SIM_DIR/fio.log" || { cat "$SIM_DIR/fio.log" >&2; fail "fio $name: errors"; }
    blk_wait_state "$dom" 51712 6
    # The same job, verify only, on the image from the host.
    # shellcheck disable=SC2086
    fio --ioengine=psync --filename="$img" --verify_only $job --iodepth=1 \
        >"$SIM_DIR/fio-host.log" 2>&1 ||
        { cat "$SIM_DIR/fio-host.log" >&2; fail "fio $name: the image differs"; }
    grep -q 'err= 0' "$SIM_DIR/fio-host.log" ||
        { cat "$SIM_DIR/fio-host.log" >&2; fail "fio $name: the image differs"; }
    echo "ok: $name"
done <<'JOBS'
randwrite-4k-1m-qd32-4q --rw=randwrite --bsrange=4k-1m --iodepth=32 --queues=4 --ring_order=2
seqwrite-1m-qd8-nopersist --rw=write --bs=1m --iodepth=8 --persistent=0
randwrite-512-qd1 --rw=randwrite --bsrange=512-64k --blockalign=512 --iodepth=1
randwrite-512-1m-qd128-4q-nopersist --rw=randwrite --bsrange=512-1m --blockalign=512 --iodepth=128 --queues=4 --persistent=0 --ring_order=4
seqwrite-4k-qd16-noindirect --rw=write --bs=4k --iodepth=16 --indirect=0
JOBS
# The store is opened at each connection: every time with that engine.
if [ -n "${BLK_FIO_ENGINE:-}" ]; then
    grep ', engine ' "$SIM_DIR/blk.log" | grep -qv ", engine $BLK_FIO_ENGINE\$" &&
        fail "pvback-blk chose another engine: $(grep -o 'engine .*' "$SIM_DIR/blk.log" | sort -u)"
    grep -q ", engine $BLK_FIO_ENGINE\$" "$SIM_DIR/blk.log" || fail "no disk opened with $BLK_FIO_ENGINE"
fi
for pattern in "${BLK_FIO_EXPECT_LOG:-}" "${BLK_FIO_EXPECT_LOG2:-}"; do
    [ -z "$pattern" ] || grep -qE "$pattern" "$SIM_DIR/blk.log" ||
        { tail -n 30 "$SIM_DIR/blk.log" >&2; fail "pvback-blk's log lacks: $pattern"; }
done
blk_stop_backend
