# shellcheck shell=bash
# build_fio: a small static fio for the guest, built from Debian's source
# package. Debian's fio binary links librados, librbd, libgfapi, rdma and
# pmem, which would make the guest image several times bigger and slower to
# boot; a static fio with the optional engines off is 3 MB and needs nothing.
# Sets FIO_BIN. Keyed on the fio source version.

# A private apt state with deb-src entries mirroring the system's deb ones,
# so that the host's apt configuration is left untouched.
private_src_apt() {
    local a=$1 f
    mkdir -p "$a/parts" "$a/lists/partial"
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] && sed 's/^Types:.*/Types: deb-src/' "$f" >"$a/parts/$(basename "$f")"
    done
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] && sed -n 's/^deb /deb-src /p' "$f" >"$a/parts/$(basename "$f")"
    done
    APT_SRC_OPTS=(-o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$a/parts"
        -o "Dir::State::Lists=$a/lists" -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache=
        -o APT::Sandbox::User=root)
    apt-get -q "${APT_SRC_OPTS[@]}" update >"$a/update.log" 2>&1 ||
        die "apt-get update of the deb-src lists failed, see $a/update.log"
}

build_fio() {
    local ver dir
    ver=$(apt-cache showsrc fio 2>/dev/null | awk '/^Version:/ {print $2; exit}')
    [ -n "$ver" ] || ver=$(apt-cache policy fio | awk '/Candidate:/ {print $2}')
    [ -n "$ver" ] && [ "$ver" != "(none)" ] || die "no fio in the apt lists"
    dir=$CACHE/fio-$ver
    FIO_BIN=$dir/fio
    [ -x "$FIO_BIN" ] && return 0
    say "building a static fio $ver from Debian's source package in $dir"
    rm -rf "$dir"
    mkdir -p "$dir/src"
    private_src_apt "$dir/apt"
    (cd "$dir/src" && apt-get -q "${APT_SRC_OPTS[@]}" source --download-only "fio=$ver") \
        >"$dir/build.log" 2>&1 || die "apt-get source fio failed, see $dir/build.log"
    (
        cd "$dir/src" &&
            dpkg-source -x ./*.dsc fio &&
            cd fio &&
            ./configure --build-static --disable-native --disable-numa --disable-rdma \
                --disable-rados --disable-rbd --disable-http --disable-gfapi --disable-pmem \
                --disable-libnfs --disable-xnvme --disable-libzbc --disable-tcmalloc \
                --disable-dfs --disable-shm &&
            make -j2 fio
    ) >>"$dir/build.log" 2>&1 || die "building fio failed, see $dir/build.log"
    strip -o "$FIO_BIN" "$dir/src/fio/fio"
    rm -rf "$dir/src" "$dir/apt"
}
