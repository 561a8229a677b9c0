#!/bin/bash
# Debian's xenstore-utils against xensim's xenstored, as against a real one:
# read, write, ls, rm, chmod, watch, list, exists, as dom0 and as a guest
# (on the guest's own socket, with a guest's rights only).
source "$(dirname "$0")/lib.sh"

sim_start

# dom0: write several keys at once, read them back.
xenstore-write /test/a 1 /test/b "two words" /test/c/deep x
expect_eq "read" "$(xenstore-read /test/a /test/b)" "$(printf '1\ntwo words')"
expect_eq "list" "$(xenstore-list /test)" "$(printf 'a\nb\nc')"
xenstore-exists /test/c/deep || fail "xenstore-exists /test/c/deep"
expect_fail "read missing" xenstore-read /test/missing
# Escapes survive the round trip.
xenstore-write /test/esc 'tab\there'
expect_eq "escaped read" "$(xenstore-read /test/esc)" 'tab\there'
expect_eq "raw read" "$(xenstore-read -R /test/esc)" "$(printf 'tab\there')"

# A guest, on its own socket.
printf 'name = "g1"\nmemory = 64\n' >"$SIM_DIR/g1.cfg"
domid=$("$XENSIM" create "$SIM_DIR/g1.cfg") || fail "xensim create"
guest() { XENSTORED_PATH="$SIM_DIR/dom$domid.sock" "$@"; }
guest xenstore-write data/x 5
expect_eq "relative write" "$(xenstore-read /local/domain/$domid/data/x)" 5
expect_eq "relative read" "$(guest xenstore-read data/x)" 5
expect_fail "guest reads dom0's key" guest xenstore-read /test/a
expect_fail "guest writes dom0's key" guest xenstore-write /test/a 9
expect_fail "guest lists /test" guest xenstore-ls /test

# chmod grants; -r recurses.
xenstore-chmod /test/a n0 r"$domid"
expect_eq "granted read" "$(guest xenstore-read /test/a)" 1
expect_fail "read is not write" guest xenstore-write /test/a 9
xenstore-chmod -r /test n0 b"$domid"
guest xenstore-write /test/c/deep y
expect_eq "granted write" "$(xenstore-read /test/c/deep)" y
expect_eq "perms" "$(xenstore-ls -p /test/c | sed 's/.*(//')" "n0,b$domid)"
expect_fail "guest chmods dom0's node" guest xenstore-chmod /test/a n"$domid"

# xenstore-ls -fp shows what xensim's dump shows.
"$XENSIM" dump | sed -n '/^# xenstore/,/^# /p' | sed '1d;$d' >"$SIM_DIR/dump.txt"
xenstore-ls -fp >"$SIM_DIR/ls.txt"
diff -u "$SIM_DIR/ls.txt" "$SIM_DIR/dump.txt" || fail "xensim dump differs from xenstore-ls -fp"
grep -qx "/test/c/deep = \"y\"   (n0,b$domid)" "$SIM_DIR/ls.txt" || fail "ls -fp line"

# Watches: the initial event, then one per change at or below the path.
xenstore-watch -n 3 /test/c >"$SIM_DIR/watch.txt" &
watcher=$!
for _ in $(seq 50); do
    [ -s "$SIM_DIR/watch.txt" ] && break
    sleep 0.1
done
xenstore-write /test/c/new 1
xenstore-write /test/other 1 # not below /test/c
xenstore-rm /test/c/deep
wait "$watcher" || fail "xenstore-watch"
expect_eq "watch events" "$(cat "$SIM_DIR/watch.txt")" "$(printf '/test/c\n/test/c/new\n/test/c/deep')"

# rm removes a subtree.
xenstore-rm /test/c
expect_fail "removed subtree" xenstore-read /test/c/new
expect_eq "after rm" "$(xenstore-list /test)" "$(printf 'a\nb\nesc\nother')"
echo "PASS"
