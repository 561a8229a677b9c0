#!/usr/bin/env bash
# The demo's two programs on a private xensim, started as scripts/demo
# starts them: a guest shares a page and an event channel, dom0 maps the
# page, replies and notifies, the guest checks the reply.
. "$(dirname "$0")/lib.sh"

sim_start
printf 'name = "demo"\nmemory = 32\n' >"$SIM_DIR/demo.cfg"
domid=$("$XENSIM" create "$SIM_DIR/demo.cfg")
"$XENSIM" exec demo -- "$PVBACK_BIN/xensim-demo-guest" >"$SIM_DIR/guest.out" 2>&1 &
guest=$!
"$XENSIM" exec Domain-0 -- "$PVBACK_BIN/xensim-demo-dom0" "$domid" >"$SIM_DIR/dom0.out" 2>&1 ||
    { cat "$SIM_DIR/dom0.out" "$SIM_DIR/guest.out" >&2; fail "dom0 side"; }
wait "$guest" || { cat "$SIM_DIR/dom0.out" "$SIM_DIR/guest.out" >&2; fail "guest side"; }
grep -q 'it says: "Hello from the guest, through a grant!"' "$SIM_DIR/dom0.out" ||
    fail "dom0 did not read the guest's page: $(cat "$SIM_DIR/dom0.out")"
grep -q 'dom0 wrote back: "Hello back from dom0."' "$SIM_DIR/guest.out" ||
    fail "the guest did not get dom0's reply: $(cat "$SIM_DIR/guest.out")"
# Everything was given back: no grant, port or handle left in the guest.
"$XENSIM" dump | grep -q "^domain $domid: .* 0 grants shared, 0 grants mapped by others, 0 event channels, 0 handles" ||
    fail "the guest still holds something: $("$XENSIM" dump | grep "^domain $domid")"
"$XENSIM" destroy demo
echo PASS
