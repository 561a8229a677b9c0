#!/usr/bin/env bash
# Persistent grants under a small bound: with --max-persistent-grants 24 the
# frontend's working set does not fit, so the pages that miss the cache go
# through bounce pages (grant copies) and the cache purges its least
# recently used mappings; with the bounce pages bounded to 8 per ring too,
# the rest are mapped for their request. Either way data stays correct, no
# grant stays mapped, and the backend never holds more than its bounds.
source "$PVBACK_SRC/tests/sim/blk_helpers.bash"

blk_start_sim
round=0
for bounce in 4096 8; do
    round=$((round + 1))
    dom=$(blk_guest "g$round")
    img=$SIM_DIR/disk$round.img
    truncate -s 16M "$img"
    blk_add_disk "$dom" 51712 "$img" w
    from=1
    [ -f "$SIM_DIR/blk.log" ] && from=$(($(wc -l <"$SIM_DIR/blk.log") + 1))
    blk_start_backend --max-persistent-grants 24 --max-bounce-pages "$bounce"
    blk_wait_state "$dom" 51712 2

    blk_front "$dom" --ops 800 --queues 2 --depth 16 --dump "$SIM_DIR/expect.img" verify \
        >"$SIM_DIR/front.log" 2>&1 || { cat "$SIM_DIR/front.log" >&2; fail "verify (bounce $bounce)"; }
    blk_wait_state "$dom" 51712 6
    cmp -s "$SIM_DIR/expect.img" "$img" || fail "image differs (bounce $bounce)"
    mapped=$("$XENSIM" --dir "$SIM_DIR" dump | sed -n "s/^domain $dom: .* \([0-9]*\) grants mapped by others.*/\1/p")
    expect_eq "grants still mapped after the guest closed (bounce $bounce)" "$mapped" 0
    blk_stop_backend
    log=$(tail -n +"$from" "$SIM_DIR/blk.log")

    # The grant bound was reached, and no queue cached more than 24.
    grep -Eq "persistent grants cached, [1-9][0-9]* pages found it full" <<<"$log" ||
        fail "the persistent grant bound was never reached (bounce $bounce)"
    if grep -E "queue [0-9]+: ([0-9]+) persistent grants cached" <<<"$log" |
        sed -E 's/.*queue [0-9]+: ([0-9]+) persistent.*/\1/' | awk '$1 > 24 { bad = 1 } END { exit !bad }'; then
        fail "a queue cached more than 24 persistent grants (bounce $bounce)"
    fi
    # Where the misses went: all through bounce pages, or past 8 also mapped.
    counts=$(sed -En 's/.*queue [0-9]+: ([0-9]+) data pages copied through bounce pages, ([0-9]+) mapped.*/\1 \2/p' <<<"$log")
    [ -n "$counts" ] || fail "no bounce page counts logged (bounce $bounce)"
    copied=$(awk '{ s += $1 } END { print s }' <<<"$counts")
    oneoff=$(awk '{ s += $2 } END { print s }' <<<"$counts")
    echo "bounce bound $bounce: $copied pages copied, $oneoff mapped one-off"
    [ "$copied" -gt 0 ] || fail "no page went through a bounce page (bounce $bounce)"
    if [ "$bounce" = 4096 ]; then
        expect_eq "pages mapped one-off under the bounce bound" "$oneoff" 0
    else
        [ "$oneoff" -gt 0 ] || fail "the bounce bound of 8 was never reached"
    fi
done
