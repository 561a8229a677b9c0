#!/bin/sh
# Shared by block-pvback and vif-pvback (sourced, POSIX sh). libxl runs a
# device's script= with the backend path in XENBUS_PATH (relative to dom0's
# home, e.g. backend/vbd/3/51712), XENBUS_TYPE, XENBUS_BASE_PATH and, for
# vifs, vif=vif<domid>.<devid>; it waits for hotplug-status = connected, or
# reports hotplug-error when hotplug-status = error, as with Xen's scripts.

PVBACK_PROG=${0##*/}

log() {
    echo "$PVBACK_PROG: $*" >&2
}

# Reports an error the way libxl reads it, and exits.
fatal() {
    log "$XENBUS_PATH: $*"
    xenstore-write "$XENBUS_PATH/hotplug-error" "$*" "$XENBUS_PATH/hotplug-status" error
    exit 1
}

success() {
    xenstore-write "$XENBUS_PATH/hotplug-status" connected || exit 1
}

# Reads a key of the backend directory; empty when absent.
xread() {
    xenstore-read "$XENBUS_PATH/$1" 2>/dev/null || true
}

# Checks the environment libxl provides and sets DOMID and DEVID from it.
# $1: the backend types this script serves, e.g. "vbd vbd3".
check_env() {
    if [ -z "${XENBUS_PATH:-}" ]; then
        log "XENBUS_PATH is not set: this script is run by xl as a device's script="
        exit 1
    fi
    case "$XENBUS_PATH" in
    */*/*/*/*) log "XENBUS_PATH '$XENBUS_PATH': expected backend/<type>/<domid>/<devid>"; exit 1 ;;
    backend/*/*/*) ;;
    *) log "XENBUS_PATH '$XENBUS_PATH': expected backend/<type>/<domid>/<devid>"; exit 1 ;;
    esac
    rest=${XENBUS_PATH#backend/}
    btype=${rest%%/*}
    rest=${rest#*/}
    DOMID=${rest%%/*}
    DEVID=${rest#*/}
    case "$DOMID$DEVID" in
    '' | *[!0-9]*) log "XENBUS_PATH '$XENBUS_PATH': domid and devid must be numbers"; exit 1 ;;
    esac
    case " $1 " in
    *" $btype "*) ;;
    *) fatal "$PVBACK_PROG serves $1 devices, not $btype" ;;
    esac
    BTYPE=$btype
}

# pvback's run directory, as the programs compute it (common/status.h).
run_dir() {
    if [ -n "${PVBACK_RUN_DIR:-}" ]; then
        echo "$PVBACK_RUN_DIR"
    elif [ -n "${XENSIM_DIR:-}" ]; then
        echo "$XENSIM_DIR/pvback"
    else
        echo /run/pvback
    fi
}

# Whether a pvback process serves (BTYPE, DOMID): the pid file pvback-watch
# keeps, or the status socket of a backend started by hand.
backend_running() {
    rd=$(run_dir)
    if [ -r "$rd/$BTYPE-$DOMID.pid" ]; then
        pid=$(cat "$rd/$BTYPE-$DOMID.pid" 2>/dev/null || true)
        case "$pid" in
        '' | *[!0-9]*) ;;
        *) kill -0 "$pid" 2>/dev/null && return 0 ;;
        esac
    fi
    [ -S "$rd/$BTYPE-$DOMID.sock" ] || [ -S "$rd/$BTYPE-all.sock" ]
}

# The backend that switched the device to InitWait before libxl ran us must
# be pvback's: if it is the kernel's (or none), say so instead of leaving
# the guest without a disk or network and no clue why.
require_backend() {
    tries=${PVBACK_HOTPLUG_WAIT:-50} # tenths of a second
    while ! backend_running; do
        tries=$((tries - 1))
        if [ "$tries" -le 0 ]; then
            fatal "no pvback backend serves domain $DOMID's $BTYPE devices (is pvback-watch running? is the kernel's $1 loaded?)"
        fi
        sleep 0.1
    done
}
