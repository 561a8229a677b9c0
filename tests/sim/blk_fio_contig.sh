#!/usr/bin/env bash
# blk_fio.sh's verified fio jobs with every request of more than one segment
# copied through a contiguous buffer (blkback/contig.h), under the seccomp
# filter, with a pool of 4 buffers a ring so that the deeper jobs also take
# the scattered path when all are in use: partial segments (512-byte
# alignment), writes gathered, reads scattered back, bounce pages beneath
# (no persistent grants), and every job must read back what it wrote,
# through the guest and on the image. The log must show both paths taken.
set -euo pipefail
seccomp=--seccomp
# valgrind does not implement seccomp(2): no filter under it (as blk_xl.sh)
[ "${PVBACK_VALGRIND:-0}" = 1 ] && seccomp=
BLK_FIO_BACKEND_ARGS="$seccomp --contiguous-above 1 --max-contiguous-buffers 4" \
    BLK_FIO_EXPECT_LOG='requests over 1 segments copied contiguous' \
    BLK_FIO_EXPECT_LOG2='queue [0-9]+: [1-9][0-9]* requests copied through contiguous buffers, [1-9][0-9]* scattered' \
    bash "$PVBACK_SRC/tests/sim/blk_fio.sh"
