#!/bin/sh
# perf.sh DEV PEER [SECONDS]: the side-by-side measurement (scenario ratio).
# fio on DEV, each job time-based for SECONDS (default 10): 1 MiB
# sequential write then read at queue depth 8, 4 KiB random read and write
# at queue depth 32 (libaio, O_DIRECT); then iperf3 TCP to PEER and back
# (-R). The last line is "key=value ..." for dom0; the job fails only when a
# tool fails or moves nothing.
dev=/dev/$1
peer=$2
secs=${3:-10}
[ -b "$dev" ] || { echo "no $dev"; exit 1; }
# The interface is set up at boot, but under load the boot's 30 s wait for
# it may have run out: make sure before measuring.
net=$(/jobs/net-state.sh up 120) || { echo "$net"; exit 1; }
# fio_job NAME RW BS DEPTH FIELD: prints FIELD of fio's terse v3 line (7:
# read KiB/s, 8: read IOPS, 48: write KiB/s, 49: write IOPS).
fio_job() {
    fio --name="$1" --filename="$dev" --direct=1 --ioengine=libaio --rw="$2" --bs="$3" \
        --iodepth="$4" --size=96m --time_based --runtime="$secs" \
        --output-format=terse --terse-version=3 --output=/tmp/perf.out || {
        cat /tmp/perf.out
        echo "fio $1 failed"
        return 1
    }
    v=$(awk -F';' -v f="$5" '{print int($f)}' /tmp/perf.out)
    [ "${v:-0}" -gt 0 ] || { cat /tmp/perf.out; echo "fio $1 moved nothing"; return 1; }
    echo "$v"
}
iperf_kbps() { # iperf_kbps [-R]: the receiver's Kbit/s
    out=$(iperf3 -c "$peer" -t "$secs" -f k "$@" 2>&1) || { echo "$out"; echo "iperf3 $* failed"; return 1; }
    v=$(echo "$out" | awk '/receiver/ {print int($7)}')
    [ "${v:-0}" -gt 0 ] || { echo "$out"; echo "iperf3 $* moved nothing"; return 1; }
    echo "$v"
}
seqwrite=$(fio_job seqwrite write 1m 8 48) || { echo "$seqwrite"; exit 1; }
seqread=$(fio_job seqread read 1m 8 7) || { echo "$seqread"; exit 1; }
randread=$(fio_job randread randread 4k 32 8) || { echo "$randread"; exit 1; }
randwrite=$(fio_job randwrite randwrite 4k 32 49) || { echo "$randwrite"; exit 1; }
tx=$(iperf_kbps) || { echo "$tx"; exit 1; }
rx=$(iperf_kbps -R) || { echo "$rx"; exit 1; }
echo "randread_iops=$randread randwrite_iops=$randwrite seqread_kibs=$seqread seqwrite_kibs=$seqwrite tcp_tx_kbps=$tx tcp_rx_kbps=$rx"
