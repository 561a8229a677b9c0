#!/bin/sh
# discard.sh fill|discard|flush DEV: the three steps of the discard and flush
# scenario; dom0 measures the backing storage between them.
#   fill:    writes 16 MiB of data at 96 MiB
#   discard: checks the disk offers discard, discards those 16 MiB
#   flush:   checks the disk has a write-back cache (flush negotiated) and
#            writes with an fsync after every write (each one a flush request)
dev=/dev/$2
q=/sys/block/$2/queue
[ -b "$dev" ] || { echo "no $dev"; exit 1; }
case $1 in
fill)
    dd if=/dev/urandom of=/tmp/rand bs=1M count=1 2>/dev/null
    i=0
    while [ $i -lt 16 ]; do
        dd if=/tmp/rand of="$dev" bs=1M seek=$((96 + i)) count=1 oflag=direct 2>/dev/null || { echo "write failed"; exit 1; }
        i=$((i + 1))
    done
    echo "16 MiB written at 96 MiB"
    ;;
discard)
    max=$(cat $q/discard_max_bytes)
    [ "$max" -gt 0 ] || { echo "$dev offers no discard (discard_max_bytes 0)"; exit 1; }
    blkdiscard -o $((96 << 20)) -l $((16 << 20)) "$dev" || { echo "blkdiscard failed"; exit 1; }
    echo "discarded 16 MiB (discard_max_bytes $max, granularity $(cat $q/discard_granularity))"
    ;;
flush)
    wc=$(cat $q/write_cache)
    [ "$wc" = "write back" ] || { echo "$dev write_cache is '$wc': no flush support"; exit 1; }
    fio --name=flush --filename="$dev" --direct=1 --rw=write --bs=4k --offset=120m --size=1m \
        --fsync=1 --verify=crc32c --output=/tmp/fio.out || { cat /tmp/fio.out; echo "fio with fsync failed"; exit 1; }
    echo "256 writes each followed by a flush, verified"
    ;;
*) echo "usage: discard.sh fill|discard|flush DEV"; exit 1 ;;
esac
