#!/usr/bin/env bash
# xensim migrate (docs/xensim.md, "Migration"): two xensim instances (A, the
# test's usual one, and B), each with its own pvback-watch, in one dom0
# network namespace and sharing one image directory. A guest with a disk and
# a vif runs fio with verify=crc32c across `xensim migrate` A -> B and back
# B -> A; fio passes with no I/O error, ping and iperf3 through the vif work
# after each move, and the host it left holds nothing of it (no domain,
# backend, run file, xenstore node, grant, tap or namespace marker).
source "$PVBACK_SRC/tests/sim/lifecycle_helpers.bash"
source "$PVBACK_SRC/tests/sim/migrate_helpers.bash"
command -v iperf3 >/dev/null || fail "iperf3 is not installed"

mig_start

# --- errors, with nothing moved ------------------------------------------------
out=$("$XENSIM" migrate "nosuch$LC_ID" "$MIG_B" 2>&1) && fail "migrating an unknown guest succeeded"
expect_eq "unknown guest" "$out" "xensim: no domain named 'nosuch$LC_ID'"
out=$("$XENSIM" migrate Domain-0 "$MIG_B" 2>&1) && fail "migrating Domain-0 succeeded"
expect_eq "Domain-0" "$out" "xensim: Domain-0 cannot be migrated"
out=$("$XENSIM" migrate x "$SIM_DIR/none" 2>&1) && fail "migrating to no xensim succeeded"
expect_eq "no destination" "$out" "xensim: migrate: no xensim running in $SIM_DIR/none"
rc=0
"$XENSIM" migrate x >/dev/null 2>&1 || rc=$?
expect_eq "usage" "$rc" 2

# A domain on B first, so that the guest gets another domid there.
pad=$(mig_pad_domain "$MIG_B")

lc_guest mg 128 >/dev/null
d=$(lc_create mg) || fail "create"
lc_boot mg
ns=xs-mg$LC_ID
ip -n "$ns" addr add 10.98.0.1/24 dev eth0
ip netns exec "$ns" ping -c 1 -W 3 10.98.0.254 >/dev/null || fail "the guest cannot reach dom0"

# --- A -> B under fio -------------------------------------------------------
mig_fio_start "$SIM_DIR" mg "$SIM_DIR/fio1.log" "vbd/$d/51712: InitWait -> Connected" "$SIM_DIR/watch.log"
d2=$(mig_migrate mg "$SIM_DIR" "$MIG_B") || fail "migrate A -> B"
[ "$d2" != "$d" ] || fail "the guest kept domid $d on B (another one was expected)"
mig_fio_check "$SIM_DIR/fio1.log" "A -> B"
grep -q "resumed as domain $d2 in $MIG_B" "$SIM_DIR/mg$LC_ID.kernel.log" ||
    fail "the kernel did not resume on B: $(cat "$SIM_DIR/mg$LC_ID.kernel.log")"
mig_assert_left "A after the move to B" "$SIM_DIR" "$MIG_BASE_A" "$d"
mig_net_check "$ns" "A -> B" "$MIG_B"
grep -q "vbd/$d2/51712: InitWait -> Connected" "$MIG_B/watch.log" ||
    fail "B's pvback-blk did not connect the disk"

# --- B -> A, under fio again ---------------------------------------------------
XENSIM_DIR=$MIG_B "$XENSIM" destroy "$pad" || fail "destroy the pad domain"
mig_fio_start "$MIG_B" mg "$SIM_DIR/fio2.log" "vbd/$d2/51712: InitWait -> Connected" "$MIG_B/watch.log"
d3=$(mig_migrate mg "$MIG_B" "$SIM_DIR") || fail "migrate B -> A"
mig_fio_check "$SIM_DIR/fio2.log" "B -> A"
mig_assert_left "B after the move back" "$MIG_B" "$MIG_BASE_B" "$d2"
mig_net_check "$ns" "B -> A" "$SIM_DIR"

# --- the guest ends on A: nothing of it left anywhere -----------------------------
"$XENSIM" shutdown -w "mg$LC_ID" || fail "shutdown"
lc_assert_clean "after the guest's shutdown on A" "$MIG_BASE_A"
echo "ok: domid $d on A -> $d2 on B -> $d3 on A; both hosts clean"
mig_stop_b || fail "B's pvback-watch exit"
lc_stop_watch || fail "pvback-watch exit"
echo PASS
