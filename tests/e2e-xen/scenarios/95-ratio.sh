# limit: 900
# sets: pvback
# The same fio and iperf3 jobs (guest/jobs/perf.sh) against the kernel
# backends and then pvback, in this boot, each in a fresh guest gr with a
# 128 MiB image on dom0's tmpfs; prints pvback ÷ kernel for each figure.
# Under emulation a ratio compares the work done per I/O, not hardware speed.
for g in $(xl list | awk 'NR > 2 {print $1}'); do
    xl destroy "$g" || fail "xl destroy $g failed"
done
SECS=10

# measure BACKEND: the perf job in a guest served by BACKEND; its figures in
# /run/perf-BACKEND. Each backend's helpers are sourced in a subshell so
# that its disk_spec and vif_spec apply there only.
measure() {
    (
        . "/e2e/backend-$1.sh"
        backend_setup
        img=$(mkimage gr 128)
        gcreate gr 7 "'$(disk_spec "$img" xvda)'"
        grun gr $((SECS * 6 * 3 + 120)) perf xvda 10.0.0.1 $SECS
        echo "$LAST_RESULT" >"/run/perf-$1"
        xl destroy gr || fail "xl destroy gr failed"
    ) || exit 1
}

watch=$(pidof pvback-watch)
[ -z "$watch" ] || { kill $watch; wait_for 20 sh -c '! pidof pvback-watch >/dev/null' || fail "pvback-watch did not stop"; }
modprobe xen-blkback && modprobe xen-netback || fail "cannot load the kernel backends"
measure kernel
rmmod xen_netback xen_blkback || fail "cannot unload the kernel backends"
measure pvback

# ratio_of KEY WHAT: prints the RATIO line of one figure.
ratio_of() {
    local k p
    k=$(tr ' ' '\n' </run/perf-kernel | sed -n "s/^$1=//p")
    p=$(tr ' ' '\n' </run/perf-pvback | sed -n "s/^$1=//p")
    [ -n "$k" ] && [ -n "$p" ] || fail "no $1 in the perf results"
    ratio "$1" "$(awk -v p="$p" -v k="$k" 'BEGIN {printf "%.2f", p / k}')" "$2: pvback $p, kernel $k"
}
ratio_of randread_iops "fio 4 KiB randread qd32, IOPS"
ratio_of randwrite_iops "fio 4 KiB randwrite qd32, IOPS"
ratio_of seqread_kibs "fio 1 MiB read qd8, KiB/s"
ratio_of seqwrite_kibs "fio 1 MiB write qd8, KiB/s"
ratio_of tcp_tx_kbps "iperf3 TCP guest to dom0, Kbit/s"
ratio_of tcp_rx_kbps "iperf3 TCP dom0 to guest, Kbit/s"
note "kernel: $(cat /run/perf-kernel); pvback: $(cat /run/perf-pvback)"
# Linux's blkfront and netfront, however busy (this boot's scenarios, the
# perf job last), are never taken for an event storm (common/evtchn_storm.h).
if grep -q "throttling its event channel" /var/log/pvback-watch.log; then
    fail "a Linux frontend was throttled as an event storm: $(grep -m1 throttling /var/log/pvback-watch.log)"
fi
