#!/usr/bin/env bash
# The xensim CLI as a user drives it: start, create, list, dump, exec,
# destroy, stop, with its error messages, and no process left behind.
. "$(dirname "$0")/lib.sh"

sim_start
daemon=$(cat "$SIM_DIR/xensim.pid")
kill -0 "$daemon" || fail "daemon $daemon not running after start"
for s in xenstored.sock hv0.sock ctl.sock; do
    [ -S "$SIM_DIR/$s" ] || fail "start did not create $s"
done
expect_fail "a second start in the same directory" "$XENSIM" start --dir "$SIM_DIR"

cfg="$SIM_DIR/guest.cfg"
printf 'name = "alpha"\nmemory = 64\n' >"$cfg"

domid=$("$XENSIM" create "$cfg")
expect_eq "first domid" "$domid" 1
[ -S "$SIM_DIR/dom1.sock" ] || fail "no xenstore socket for dom1"
[ -S "$SIM_DIR/hv1.sock" ] || fail "no hypervisor socket for dom1"
expect_eq "explicit domid with an override" "$("$XENSIM" create "$cfg" name=beta domid=7 memory=32)" 7

out=$("$XENSIM" list)
echo "$out" | grep -Eq '^Name +ID +Mem +VCPUs +State +Time\(s\)$' || fail "list header: $out"
echo "$out" | grep -Eq '^Domain-0 +0 ' || fail "list lacks Domain-0: $out"
echo "$out" | grep -Eq '^alpha +1 +64 ' || fail "list lacks alpha: $out"
echo "$out" | grep -Eq '^beta +7 +32 ' || fail "list lacks beta: $out"

dump=$("$XENSIM" dump)
echo "$dump" | grep -q '^/local/domain/1/name = "alpha"' || fail "dump lacks alpha's name"
echo "$dump" | grep -q '^domain 7: memory 32 MiB' || fail "dump lacks beta's hv state"

# Errors: a name taken, a domid taken, a bad value, a missing file, no such domain.
err=$("$XENSIM" create "$cfg" 2>&1) && fail "duplicate name accepted"
echo "$err" | grep -q "alpha" || fail "duplicate name message: $err"
err=$("$XENSIM" create "$cfg" name=gamma domid=7 2>&1) && fail "duplicate domid accepted"
echo "$err" | grep -q "7" || fail "duplicate domid message: $err"
err=$("$XENSIM" create "$cfg" memory=lots 2>&1) && fail "bad memory accepted"
echo "$err" | grep -q "memory" || fail "bad memory message: $err"
expect_fail "missing config" "$XENSIM" create "$SIM_DIR/nope.cfg"
err=$("$XENSIM" destroy nosuch 2>&1) && fail "destroy of an unknown name succeeded"
echo "$err" | grep -q "nosuch" || fail "destroy message: $err"
expect_fail "destroy Domain-0" "$XENSIM" destroy 0
expect_fail "exec in no domain" "$XENSIM" exec nosuch -- true
expect_fail "exec in no domain id" "$XENSIM" exec 42 -- true

# exec: the command sees its domain's environment...
env_out=$("$XENSIM" exec alpha -- sh -c 'echo "$XENSIM_DOMID $XENSTORED_PATH $XENSIM_DIR"')
expect_eq "exec environment" "$env_out" "1 $SIM_DIR/dom1.sock $SIM_DIR"
# ...and dies with it.
"$XENSIM" exec alpha -- sleep 1000 &
in_alpha=$!
"$XENSIM" exec Domain-0 -- sleep 1000 &
in_dom0=$!
sleep 0.5
kill -0 "$in_alpha" || fail "exec'd process in alpha is not running"
"$XENSIM" destroy alpha || fail "destroy alpha"
wait "$in_alpha" 2>/dev/null && fail "alpha's process exited cleanly instead of being killed"
[ -S "$SIM_DIR/dom1.sock" ] && fail "dom1.sock still there after destroy"
[ -S "$SIM_DIR/hv1.sock" ] && fail "hv1.sock still there after destroy"
"$XENSIM" list | grep -q '^alpha ' && fail "alpha still listed"
"$XENSIM" destroy 7 || fail "destroy by domid"
[ "$("$XENSIM" list | wc -l)" = 2 ] || fail "list after destroys: $("$XENSIM" list)"

# stop ends the daemon and what it started, and removes its sockets.
kill -0 "$in_dom0" || fail "dom0 process is not running"
"$XENSIM" stop || fail "stop"
wait "$in_dom0" 2>/dev/null && fail "dom0's process survived stop"
proc_gone "$daemon" || fail "daemon $daemon survived stop"
for s in xenstored.sock hv0.sock ctl.sock xensim.pid; do
    [ -e "$SIM_DIR/$s" ] && fail "$s left behind"
done
expect_fail "stop when stopped" "$XENSIM" stop
expect_fail "list when stopped" "$XENSIM" list
echo "PASS"
