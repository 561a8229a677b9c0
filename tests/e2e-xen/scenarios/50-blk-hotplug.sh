# limit: 150
# xl block-attach / block-detach on the running guest: the disk appears,
# keeps its data across detach and re-attach, and its backend directory goes
# away on detach.
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
xl block-attach g1 "$spec" || fail "second xl block-attach failed"
grun g1 30 disk present xvdb
grun g1 30 disk check xvdb
xl block-detach g1 xvdb || fail "second xl block-detach failed"
grun g1 30 disk absent xvdb
rm -f "$img"
