# shellcheck shell=bash
# boot LOG DOM0_ARGS: boots Xen, dom0 and its scenario run under
# qemu-system-x86_64 (software emulation), the serial console timestamped
# into LOG. Returns 0 when dom0 reported the end of its run, 1 on a hang
# (no serial output for STALL_S seconds; dom0 prints a heartbeat every 20 s)
# or a run longer than BOOT_TIMEOUT_S, 2 when QEMU
# died. Never lets QEMU outlive it.

# spec-ctrl=eager-fpu: on the emulated AMD CPU Xen defaults to lazy FPU
# switching (CR0.TS and #NM when a vCPU first touches the FPU after another
# vCPU ran on that CPU). Under QEMU's emulation that loses register contents:
# programs in dom0 and the guests read memory their libc just copied or
# cleared as zeros or garbage and crash. The crash probe with 4 dom0 vCPUs on
# the 2 CPUs (run --probe, docs/e2e-xen.md) counted 29 failed programs in
# 994 lazily and none eagerly. Eager switching saves and restores the FPU
# state on every vCPU switch instead.
# E2E_XEN_ARGS / E2E_DOM0_ARGS: more options for Xen / the dom0 kernel, for
# experiments (docs/e2e-xen.md).
XEN_ARGS="dom0_mem=1G,max:1G dom0_max_vcpus=2 spec-ctrl=eager-fpu console=com1 com1=115200,8n1 loglvl=all guest_loglvl=all noreboot ${E2E_XEN_ARGS:-}"
DOM0_EXTRA_ARGS=${E2E_DOM0_ARGS:-}

stamp() { # prefixes each line with the seconds since the boot started
    local t0=${EPOCHREALTIME/./} e l
    while IFS= read -r l; do
        e=$((${EPOCHREALTIME/./} - t0))
        printf '[%4d.%d] %s\n' $((e / 1000000)) $((e / 100000 % 10)) "${l%$'\r'}"
    done
}

# timeout runs QEMU in its own process group: an interrupted run must stop
# it explicitly (run sets the trap).
QEMU_PID=
stop_qemu() { [ -z "$QEMU_PID" ] || kill "$QEMU_PID" 2>/dev/null; }

boot() {
    local log=$1 dom0_args=$2 pid size last_size last_change now start rc
    # -cpu max minus SMAP/SMEP: with them Xen faults writing the PV dom0's
    # user-mode stack (create_bounce_frame). QEMU_CPU/QEMU_SMP are for
    # experiments (see docs/e2e-xen.md, known problems). In a multiboot
    # module's command line a literal comma is written twice.
    timeout -k 10 "$BOOT_TIMEOUT_S" qemu-system-x86_64 \
        -accel "tcg,thread=${QEMU_TCG_THREAD:-multi}" -cpu "${QEMU_CPU:-max,-smap,-smep}" -smp "${QEMU_SMP:-2}" -m 3G \
        -display none -no-reboot -net none -monitor none -serial stdio \
        -kernel "$XEN_ELF" -append "$XEN_ARGS" \
        -initrd "$VMLINUZ console=hvc0 earlyprintk=xen loglevel=4 ${DOM0_EXTRA_ARGS//,/,,} ${dom0_args//,/,,},$DOM0_INITRD" \
        </dev/null > >(stamp >"$log") 2>&1 &
    pid=$!
    QEMU_PID=$pid
    start=$(date +%s)
    last_size=-1
    last_change=$start
    rc=2
    while kill -0 "$pid" 2>/dev/null; do
        sleep 1
        now=$(date +%s)
        if grep -q '@@ E2E-DONE' "$log" 2>/dev/null; then
            rc=0
            break
        fi
        size=$(stat -c %s "$log" 2>/dev/null || echo 0)
        [ "$size" != "$last_size" ] && last_size=$size && last_change=$now
        if [ $((now - last_change)) -ge "$STALL_S" ] || [ $((now - start)) -ge "$BOOT_TIMEOUT_S" ]; then
            rc=1
            break
        fi
    done
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    QEMU_PID=
    sleep 0.2 # let the stamper drain
    BOOT_SECONDS=$(($(date +%s) - start))
    if [ $rc -eq 2 ] && grep -q '@@ E2E-DONE' "$log"; then rc=0; fi
    return $rc
}
