#!/usr/bin/env bash
# blk_fio.sh's verified fio jobs with the image on tmpfs (as the real-Xen
# suite keeps its images in dom0's memory), under the seccomp filter:
# pvback-blk must choose the split engine there on its own (libaio for small
# requests, io_uring for large ones; blkback/storage_split.c), and every job
# must still read back what it wrote, through the guest and on the image.
set -euo pipefail
shm=$(mktemp -d /dev/shm/pvback-test.XXXXXX)
# blk_fio.sh cleans up its own simulator; this removes the image.
trap 'rm -rf "$shm"' EXIT
seccomp=--seccomp
# valgrind does not implement seccomp(2): no filter under it (as blk_xl.sh)
[ "${PVBACK_VALGRIND:-0}" = 1 ] && seccomp=
BLK_FIO_IMG_DIR=$shm BLK_FIO_BACKEND_ARGS=$seccomp BLK_FIO_ENGINE=aio+uring \
    bash "$PVBACK_SRC/tests/sim/blk_fio.sh"
