# shellcheck shell=bash
# Builds the two initramfs trees from the unpacked Debian packages (ROOT):
#   guest: busybox, xen-blkfront/xen-netfront, fio, iperf3, xenstore tools,
#          the guest agent (guest/init) and its jobs;
#   dom0:  busybox, the Xen toolstack and its libraries, iproute2's bridge,
#          the backend, bridge and VLAN modules, the hotplug scripts, the
#          scenarios, the guest kernel and initramfs, and pvback's binaries
#          when they have been built.
# Needs ROOT, KVER, VMLINUX, FIO_BIN (lib/fetch.sh, lib/fio.sh).

BB() { "$ROOT/bin/busybox" "$@"; }

# Library search path inside the unpacked packages; project binaries built
# on this host may need a library the images do not carry, found on the host.
LIB_DIRS="lib/x86_64-linux-gnu usr/lib/x86_64-linux-gnu usr/lib/xen-4.17/lib"

find_lib() { # find_lib NAME [host-fallback]
    local d
    for d in $LIB_DIRS; do
        [ -e "$ROOT/$d/$1" ] && {
            echo "$ROOT/$d/$1"
            return 0
        }
    done
    if [ "${2:-}" = host ]; then
        for d in /lib/x86_64-linux-gnu /usr/lib/x86_64-linux-gnu; do
            [ -e "$d/$1" ] && {
                echo "$d/$1"
                return 0
            }
        done
    fi
    return 1
}

# tree_bin TREE SRC DEST [host]: copies an ELF program and, recursively, every
# library it names (DT_NEEDED) into TREE. Read with readelf, not ldd: ldd
# would run the host's loader against another libc.
tree_bin() {
    local tree=$1 src=$2 dest=$3 fallback=${4:-}
    mkdir -p "$tree$(dirname "$dest")"
    cp -L "$src" "$tree$dest"
    local queue=("$src") seen=" " f lib path
    while [ ${#queue[@]} -gt 0 ]; do
        f=${queue[0]}
        queue=("${queue[@]:1}")
        for lib in $(readelf -d "$f" 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
            case $seen in *" $lib "*) continue ;; esac
            seen="$seen$lib "
            path=$(find_lib "$lib" "$fallback") || die "$src needs $lib, which no package in lib/fetch.sh provides"
            cp -L "$path" "$tree/lib/x86_64-linux-gnu/$lib"
            queue+=("$path")
        done
    done
}

# tree_base TREE: busybox with all its applets, the loader, glibc's
# dlopen()ed libgcc_s (pthread_cancel aborts xl without it).
tree_base() {
    local t=$1 a
    rm -rf "$t"
    mkdir -p "$t"/{bin,etc,proc,sys,dev,tmp,run,var,root,mnt,data,lib/x86_64-linux-gnu,lib64,usr/lib}
    cp "$ROOT/bin/busybox" "$t/bin/busybox"
    for a in $(BB --list); do
        [ "$a" = busybox ] || ln -sf busybox "$t/bin/$a"
    done
    ln -s bin "$t/sbin"
    ln -s ../bin "$t/usr/bin"
    ln -s ../bin "$t/usr/sbin"
    ln -s ../run "$t/var/run"
    cp -L "$ROOT/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" "$t/lib/x86_64-linux-gnu/"
    ln -s ../lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 "$t/lib64/ld-linux-x86-64.so.2"
    cp -L "$(find_lib libgcc_s.so.1)" "$t/lib/x86_64-linux-gnu/"
    echo "root:x:0:0:root:/root:/bin/sh" >"$t/etc/passwd"
    echo "root:x:0:" >"$t/etc/group"
}

# tree_mods TREE MODULE...: kernel modules plus what they depend on.
tree_mods() {
    local t=$1 m f deps
    shift
    local src=$ROOT/lib/modules/$KVER
    for m in "$@"; do
        f=$(find "$src/kernel" -name "$m.ko" | head -1)
        [ -n "$f" ] || die "kernel $KVER has no module $m"
        mkdir -p "$t/lib/modules/$KVER/$(dirname "${f#"$src"/}")"
        cp "$f" "$t/lib/modules/$KVER/${f#"$src"/}"
        deps=$(tr '\0' '\n' <"$f" | sed -n 's/^depends=//p' | tr ',' ' ')
        # shellcheck disable=SC2086
        [ -z "$deps" ] || tree_mods "$t" $deps
    done
}

tree_depmod() {
    cp "$ROOT/lib/modules/$KVER"/modules.{order,builtin} "$1/lib/modules/$KVER/"
    BB depmod -b "$1" "$KVER" || die "depmod failed in $1"
}

pack() { # pack TREE OUT: newc cpio, lightly compressed (unpacked under TCG)
    (cd "$1" && find . | cpio -o -H newc --quiet | gzip -1) >"$2.tmp" && mv "$2.tmp" "$2"
}

build_guest_tree() {
    local g=$1
    tree_base "$g"
    tree_mods "$g" xen-blkfront xen-netfront
    tree_depmod "$g"
    tree_bin "$g" "$FIO_BIN" /bin/fio
    tree_bin "$g" "$ROOT/usr/bin/iperf3" /bin/iperf3
    tree_bin "$g" "$ROOT/usr/bin/xenstore" /bin/xenstore
    local c
    for c in read write exists rm list; do ln -sf xenstore "$g/bin/xenstore-$c"; done
    cp "$E2E_SRC/guest/init" "$g/init"
    mkdir -p "$g/jobs"
    cp "$E2E_SRC"/guest/jobs/*.sh "$g/jobs/"
    chmod +x "$g/init" "$g"/jobs/*.sh
}

# pvback's own programs, when built: PVBACK_PROGRAMS lists what was found
# (the binaries, and every file of xenstore-watch/hotplug/, since the scripts
# source a common helper there), PVBACK_MISSING what was not (the pvback set
# fails on that).
PVBACK_BINARIES="pvback-blk pvback-net pvback-watch"
PVBACK_SCRIPTS="block-pvback vif-pvback"
find_pvback() {
    PVBACK_PROGRAMS=""
    PVBACK_MISSING=""
    local b
    for b in $PVBACK_BINARIES; do
        if [ -x "$BUILD_DIR/bin/$b" ]; then
            PVBACK_PROGRAMS="$PVBACK_PROGRAMS $BUILD_DIR/bin/$b"
        else
            PVBACK_MISSING="$PVBACK_MISSING $BUILD_DIR/bin/$b"
        fi
    done
    for b in $PVBACK_SCRIPTS; do
        [ -f "$REPO_SRC/xenstore-watch/hotplug/$b" ] || PVBACK_MISSING="$PVBACK_MISSING xenstore-watch/hotplug/$b"
    done
    for b in "$REPO_SRC"/xenstore-watch/hotplug/*; do
        [ -f "$b" ] && PVBACK_PROGRAMS="$PVBACK_PROGRAMS $b"
    done
}

build_dom0_tree() {
    local d=$1 guest_initrd=$2 b
    tree_base "$d"
    tree_mods "$d" xenfs xen-evtchn xen-gntdev xen-gntalloc xen-privcmd xen-blkback xen-netback \
        bridge 8021q loop tun
    tree_depmod "$d"
    local xb=/usr/lib/xen-4.17/bin
    for b in xl xenstored xenconsoled xen-init-dom0 libxl-save-helper; do
        tree_bin "$d" "$ROOT$xb/$b" "$xb/$b"
    done
    tree_bin "$d" "$ROOT/usr/bin/xenstore" /bin/xenstore
    for b in read write exists rm list ls chmod watch; do ln -sf xenstore "$d/bin/xenstore-$b"; done
    tree_bin "$d" "$ROOT/usr/bin/iperf3" /bin/iperf3
    tree_bin "$d" "$ROOT/sbin/bridge" /bin/bridge # VLANs of bridge ports (busybox has no 'bridge')
    mkdir -p "$d/etc/xen/scripts" "$d/e2e/scenarios" "$d/guest"
    cp "$E2E_SRC/dom0/xl.conf" "$d/etc/xen/xl.conf"
    cp "$E2E_SRC"/hotplug/* "$d/etc/xen/scripts/"
    cp "$E2E_SRC/dom0/init" "$d/init"
    cp "$E2E_SRC"/dom0/*.sh "$d/e2e/"
    cp "$E2E_SRC"/scenarios/* "$d/e2e/scenarios/"
    for b in $PVBACK_PROGRAMS; do
        case $b in
        */hotplug/*) cp "$b" "$d/etc/xen/scripts/" ;;
        *) tree_bin "$d" "$b" "/usr/local/bin/$(basename "$b")" host ;;
        esac
    done
    chmod +x "$d/init" "$d"/etc/xen/scripts/* "$d"/e2e/scenarios/*
    cp "$VMLINUX" "$d/guest/vmlinux"
    cp "$guest_initrd" "$d/guest/initrd.gz"
}

# build_images: sets DOM0_INITRD, cached on everything that goes into it.
build_images() {
    find_pvback
    local inputs key
    inputs=$(
        cat "$DEBS_DIR/versions"
        sha256sum "$FIO_BIN"
        find "$E2E_SRC" -type f ! -name '*.md' -print0 | sort -z | xargs -0 sha256sum
        # shellcheck disable=SC2086
        [ -z "$PVBACK_PROGRAMS" ] || sha256sum $PVBACK_PROGRAMS
    )
    key=$(key_of "$inputs")
    IMG_DIR=$CACHE/img-$key
    DOM0_INITRD=$IMG_DIR/dom0.cpio.gz
    [ -f "$DOM0_INITRD" ] && return 0
    say "building the guest and dom0 initramfs images in $IMG_DIR"
    rm -rf "$CACHE"/img-*
    mkdir -p "$IMG_DIR"
    build_guest_tree "$IMG_DIR/guest"
    pack "$IMG_DIR/guest" "$IMG_DIR/guest.cpio.gz"
    build_dom0_tree "$IMG_DIR/dom0" "$IMG_DIR/guest.cpio.gz"
    pack "$IMG_DIR/dom0" "$DOM0_INITRD"
    rm -rf "$IMG_DIR/guest" "$IMG_DIR/dom0"
}
