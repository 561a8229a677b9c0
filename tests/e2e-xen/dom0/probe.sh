#!/bin/sh
# probe.sh N: the crash probe (run --probe N). Forks N short-lived busybox
# and xenstore programs in dom0, two loops in parallel (one per vCPU), the
# pattern that crashes under emulation (docs/e2e-xen.md, known problems),
# and reports how many of them died of a signal and how many segfaults
# the kernel logged.
n=${1:-1000}
loop() {
    i=0 bad=0
    while [ $i -lt "$n" ]; do
        sh -c 'x=$(echo a | awk "{print \$1}"); [ "$x" = a ]' || bad=$((bad + 1))
        xenstore-read /local/domain/0/name >/dev/null || bad=$((bad + 1))
        i=$((i + 1))
    done
    echo "$bad" >"/run/probe-$1"
}
start=$(date +%s)
before=$(dmesg | grep -c segfault)
loop a &
loop b &
wait
after=$(dmesg | grep -c segfault)
dmesg | grep segfault | tail -5
echo "@@ PROBE runs=$((4 * n)) failed=$(($(cat /run/probe-a) + $(cat /run/probe-b))) segfaults=$((after - before)) seconds=$(($(date +%s) - start))"
