#!/bin/sh
# probe.sh N S: the crash probe (run --probe N). Forks N short-lived busybox
# and xenstore programs in dom0, one loop per dom0 vCPU in parallel, the
# pattern that crashes under emulation (docs/e2e-xen.md, known problems),
# stopping after S seconds (a loaded host slows the machine down 5-10x),
# and reports how many of them failed and how many faults (segfaults and
# general protection faults) the kernel logged. Each failure and every
# 50th round are printed as they happen, so that a boot cut short by the
# time limit still shows its counts.
n=${1:-1000}
stop=$(($(date +%s) + ${2:-600}))
faults() { dmesg | grep -E 'segfault at|general protection'; }
loop() {
    i=0 bad=0
    while [ $i -lt "$n" ] && [ "$(date +%s)" -lt $stop ]; do
        sh -c 'x=$(echo a | awk "{print \$1}"); [ "$x" = a ]' || { bad=$((bad + 1)) && echo "@@ PROBE-FAIL $1 $i sh"; }
        xenstore-read /local/domain/0/name >/dev/null || { bad=$((bad + 1)) && echo "@@ PROBE-FAIL $1 $i xenstore-read"; }
        i=$((i + 1))
        [ $((i % 50)) -ne 0 ] || echo "@@ PROBE-PROGRESS $1 $i bad=$bad faults=$(($(faults | wc -l) - before))"
    done
    echo "$i $bad" >"/run/probe-$1"
}
start=$(date +%s)
before=$(faults | wc -l)
cpus=$(grep -c ^processor /proc/cpuinfo)
for c in $(seq "$cpus"); do loop "$c" & done
wait
after=$(faults | wc -l)
faults | tail -5
runs=0 bad=0
for c in $(seq "$cpus"); do
    read -r i b <"/run/probe-$c"
    runs=$((runs + 2 * i)) bad=$((bad + b))
done
echo "@@ PROBE vcpus=$cpus runs=$runs failed=$bad faults=$((after - before)) seconds=$(($(date +%s) - start))"
