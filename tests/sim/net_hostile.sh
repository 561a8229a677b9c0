# Hostile frontends, one per validation rule of guest TX/RX: each fatal rule
# fails that vif with a xenbus error node naming the rule, each drop rule
# gets the packet answered with an error while the vif stays Connected; in
# every case pvback-net keeps running and another guest keeps its service.
source "$PVBACK_SRC/tests/sim/net_helpers.bash"

net_start_sim
net_start_backend
d1=$(net_guest ok1 "mac=00:16:3e:00:0c:01,bridge=xenbr0")
d2=$(net_guest ok2 "mac=00:16:3e:00:0c:02,bridge=xenbr0")
net_front ok1 "$d1"
net_front ok2 "$d2"
in_guest ok1 ip addr add 10.81.0.1/24 dev eth0
in_guest ok2 ip addr add 10.81.0.2/24 dev eth0

# rule -> what the error node must say (empty: a drop rule)
declare -A want=(
    [slots]="more slots than any frontend may"
    [cross-page]="crosses the page boundary"
    [extra-type]="extra-info slot of invalid type"
    [gso-size0]="GSO extra-info with size 0"
    [gso-type]="unknown GSO type"
    [tx-overflow]="TX producer index"
    [rx-overflow]="RX producer index"
    [incomplete]="continues past the last request"
    [ctrl-overflow]="control ring: producer index"
    [legacy-slots]=""
    [size-chain]=""
    [too-short]=""
)
n=0
for rule in slots cross-page extra-type gso-size0 gso-type tx-overflow rx-overflow incomplete \
    ctrl-overflow legacy-slots size-chain too-short; do
    n=$((n + 1))
    g="h$n"
    d=$(net_guest "$g" "mac=00:16:3e:00:0d:$(printf %02x $n),bridge=xenbr0")
    XENSIM_DOMID=$d XENSTORED_PATH="$SIM_DIR/dom$d.sock" timeout 60 \
        "$PVBACK_BIN/pvback-netfront" --netns "xs-$g$NET_ID" --hostile "$rule" --hash \
        >"$SIM_DIR/hostile-$rule.log" 2>&1 ||
        fail "$rule: $(cat "$SIM_DIR/hostile-$rule.log")"
    node=$(xenstore-read "error/backend/vif/$d/0/error" 2>/dev/null || true)
    if [ -n "${want[$rule]}" ]; then
        [[ $node == *"${want[$rule]}"* ]] || fail "$rule: error node '$node' lacks '${want[$rule]}'"
        echo "$rule: vif failed: $node"
    else
        [ -z "$node" ] || fail "$rule: a drop rule failed the vif: $node"
        echo "$rule: packet refused, vif still connected"
    fi
    kill -0 "$NET_PID" || fail "$rule: pvback-net died"
    in_guest ok1 ping -c 1 -W 3 10.81.0.2 >/dev/null || fail "$rule: the other guests lost service"
    "$XENSIM" --dir "$SIM_DIR" destroy "$g$NET_ID" >/dev/null || fail "$rule: destroy"
done

net_stop_fronts
net_stop_backend
echo "PASS"
