# shellcheck shell=bash
# fetch_debs: downloads (never installs) the Debian packages both images are
# made of and unpacks them into one tree. Sets DEBS_DIR (the cache entry),
# ROOT (the unpacked tree), KVER, XEN_ELF, VMLINUZ and VMLINUX.
# Keyed on the exact package versions: a point release re-downloads.

# What the images are made of. Libraries are listed explicitly (not by
# apt's recursive depends, which would drag in python and perl); the image
# builder fails loudly when a binary needs a library that is not here.
E2E_PACKAGES="
xen-hypervisor-4.17-amd64 xen-utils-4.17 xenstore-utils
libxencall1 libxenevtchn1 libxenforeignmemory1 libxengnttab1 libxenmisc4.17 libxenstore4
libxentoollog1 libxentoolcore1 libxendevicemodel1 libxenhypfs1 libyajl2
libncurses6 libtinfo6 libext2fs2 libcom-err2 liblzma5 libuuid1 libzstd1 zlib1g libbz2-1.0
libc6 libgcc-s1 busybox-static iperf3 libiperf0 libsctp1 libssl3 iproute2 libmnl0 libcap2
"

kernel_version() {
    apt-cache depends linux-image-amd64 |
        awk '/Depends: linux-image-/ {sub("linux-image-", "", $2); print $2; exit}'
}

fetch_debs() {
    KVER=${E2E_KVER:-$(kernel_version)}
    [ -n "$KVER" ] || die "cannot find the kernel behind linux-image-amd64 (apt-get update?)"
    local pkgs="linux-image-$KVER $E2E_PACKAGES"
    local versions
    # shellcheck disable=SC2086
    versions=$(apt_candidates $pkgs) || exit 2
    DEBS_DIR=$CACHE/debs-$(key_of "$versions")
    ROOT=$DEBS_DIR/root
    XEN_ELF=$DEBS_DIR/xen.elf
    VMLINUZ=$DEBS_DIR/vmlinuz
    VMLINUX=$DEBS_DIR/vmlinux
    [ -f "$DEBS_DIR/.done" ] && return 0

    say "downloading $(echo "$versions" | wc -l) Debian packages into $DEBS_DIR"
    rm -rf "$DEBS_DIR"
    mkdir -p "$DEBS_DIR/debs" "$ROOT"
    # apt-get download writes into the current directory; '_apt' may not
    # be able to write into a private cache, hence the sandbox user override.
    # shellcheck disable=SC2086
    (cd "$DEBS_DIR/debs" && apt-get -q -o APT::Sandbox::User=root download $versions) >"$DEBS_DIR/download.log" 2>&1 ||
        die "apt-get download failed, see $DEBS_DIR/download.log"
    local d
    for d in "$DEBS_DIR"/debs/*.deb; do
        dpkg-deb -x "$d" "$ROOT" || die "cannot unpack $d"
    done
    # Xen is booted by QEMU's multiboot loader, which wants the plain ELF.
    zcat "$ROOT"/boot/xen-4.17-amd64.gz >"$XEN_ELF" || die "no xen-4.17-amd64.gz in xen-hypervisor-4.17-amd64"
    cp "$ROOT/boot/vmlinuz-$KVER" "$VMLINUZ"
    # The guest boots from the ELF vmlinux: libxenguest would otherwise spend
    # ~9 s of emulated CPU unpacking the xz bzImage on every xl create/restore.
    extract_vmlinux "$VMLINUZ" "$VMLINUX" || die "cannot extract vmlinux from $VMLINUZ"
    echo "$versions" >"$DEBS_DIR/versions"
    touch "$DEBS_DIR/.done"
}

# extract_vmlinux BZIMAGE OUT: the xz payload of a bzImage is the ELF vmlinux.
extract_vmlinux() {
    local off
    off=$(grep -abo -m1 $'\xfd7zXZ\x00' "$1" | head -1 | cut -d: -f1)
    [ -n "$off" ] || return 1
    tail -c +$((off + 1)) "$1" | xz -dc 2>/dev/null >"$2"
    file "$2" | grep -q 'ELF 64-bit' || return 1
}
