# limit: 300
# fio with verify on the guest's xvda: random and sequential writes of
# 4 KiB..1 MiB read back and checked; the guest also checks that its blkfront
# negotiated multi-queue, indirect descriptors and persistent grants.
need_g1
grun g1 30 blk-features xvda
note "$LAST_RESULT;"
grun g1 240 fio verify xvda
note "$LAST_RESULT"
