# limit: 300
# xl block-attach / block-detach on the running guest: the disk appears,
# keeps its data across detach and re-attach (the second time without
# persistent grants, with a verified fio on it), and its backend directory
# goes away on detach.
need_g1
img=$(mkimage g1-hot 32)
spec=$(disk_spec "$img" xvdb)
id=$(gdomid g1)
xl block-attach g1 "$spec" || fail "xl block-attach g1 $spec failed"
grun g1 30 disk present xvdb
grun g1 30 disk mark xvdb
xl block-detach g1 xvdb || fail "xl block-detach g1 xvdb failed"
grun g1 30 disk absent xvdb
xenstore-exists "/local/domain/0/backend/vbd/$id/51728" && fail "backend/vbd/$id/51728 left after block-detach"
# The second attach without persistent grants (blkfront's feature_persistent
# off): every data page then reaches the backend without a persistent
# mapping (pvback-blk: grant copies through bounce pages). The marker is read
# back, and a verified fio runs on the disk.
grun g1 30 blk-persistent off
xl block-attach g1 "$spec" || { grun g1 30 blk-persistent on; fail "second xl block-attach failed"; }
grun g1 30 disk present xvdb
grun g1 30 blk-persistent on
grun g1 30 blk-features xvdb no-persistent
note "$LAST_RESULT;"
grun g1 30 disk check xvdb
grun g1 150 fio small xvdb 24
note "$LAST_RESULT"
xl block-detach g1 xvdb || fail "second xl block-detach failed"
grun g1 30 disk absent xvdb
rm -f "$img"
