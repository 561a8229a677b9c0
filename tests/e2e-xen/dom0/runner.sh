#!/bin/sh
# runner.sh BACKEND [ONLY]: runs /e2e/scenarios/NN-name.sh in order, each in
# its own shell under its time limit ('# limit: N' in the file; '# sets: a b'
# restricts a scenario to those backend sets), and prints
# one '@@ RESULT name PASS|FAIL text' line per scenario for the host.
# ONLY is a '+'-separated list of scenario names to run (default: all);
# E2E_SCALE (environment) multiplies every time limit.
backend=$1
only=$2
. /e2e/lib.sh

scenario_shell() { # what a scenario runs in: the helpers, then the backend
    echo ". /e2e/lib.sh; . /e2e/backend-$backend.sh; $1"
}

result() {
    echo "@@ RESULT $1 $2"
}

# selected NAME FILE: whether to run a scenario in this set: it is in ONLY
# (when given) and its '# sets:' line, if any, names this backend.
selected() {
    local sets
    sets=$(sed -n 's/^# sets: *//p' "$2")
    if [ -n "$sets" ]; then
        case " $sets " in *" $backend "*) ;; *) return 1 ;; esac
    fi
    [ -z "$only" ] && return 0
    case "+$only+" in *"+$1+"*) return 0 ;; esac
    return 1
}

# Backend setup failing fails every scenario with its reason.
setup_error=
if [ ! -f "/e2e/backend-$backend.sh" ]; then
    setup_error="no backend '$backend' in this harness"
else
    rm -f /run/e2e-reason
    sh -c "$(scenario_shell backend_setup)" || setup_error="backend setup: $(cat /run/e2e-reason 2>/dev/null)"
fi
iperf3 -s -D -B 10.0.0.1 # the peer on the bridge for the network scenarios

for s in /e2e/scenarios/*.sh; do
    name=$(basename "$s" .sh)
    name=${name#[0-9][0-9]-}
    selected "$name" "$s" || continue
    if [ -n "$setup_error" ]; then
        result "$name" "FAIL $setup_error"
        continue
    fi
    limit=$(sed -n 's/^# limit: *\([0-9]*\).*/\1/p' "$s")
    limit=$((${limit:-180} * ${E2E_SCALE:-1}))
    rm -f /run/e2e-reason
    : >/run/e2e-note
    echo "@@ BEGIN $name uptime=$(up)"
    start=$(date +%s)
    timeout -s KILL "$limit" sh -c "$(scenario_shell ". $s")"
    rc=$?
    took=$(($(date +%s) - start))
    if [ $rc -eq 0 ]; then
        result "$name" "PASS ${took}s $(tr '\n' ' ' </run/e2e-note 2>/dev/null)"
    else
        reason=$(cat /run/e2e-reason 2>/dev/null)
        [ -n "$reason" ] || reason="killed after ${limit}s (rc $rc)"
        result "$name" "FAIL ${took}s $reason"
        echo "--- host side of the network, backend vifs"
        ip link
        bridge link
        bridge vlan show
        xenstore-ls -f /local/domain/0/backend/vif 2>/dev/null
        # The next scenario starts from fresh guests.
        for g in $(xl list | awk 'NR > 2 {print $1}'); do
            tail -30 "/var/log/xen/console/guest-$g.log" 2>/dev/null | sed "s/^/[$g] /"
            xl destroy "$g"
        done
        echo "--- hotplug log (tail)"
        tail -20 /var/log/xen/hotplug.log 2>/dev/null
        [ -f /var/log/pvback-watch.log ] && echo "--- pvback-watch log (tail)" && tail -40 /var/log/pvback-watch.log
    fi
done
