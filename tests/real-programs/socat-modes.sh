#!/bin/sh
# socat fights the library with its own keepalive=0 / keepidle= options.
# default: the program wins; force: the configured values stay; off: nothing.
# And the direction filter on a real listener and a real client.
. "$TKA_SRCDIR/tests/lib.sh"
need_cmd socat ss

# serve PORT SOCAT-LISTEN-OPTIONS [ENV...]: socat server in the background
serve() {
        _port=$1 _opts=$2
        shift 2
        (sleep 20 | env "$@" socat "TCP-LISTEN:$_port,bind=127.0.0.1,reuseaddr$_opts" -) >/dev/null 2>&1 &
        on_exit "pkill -f 'TCP-LISTEN:$_port,' 2>/dev/null"
        wait_until 10 "socat listening on $_port" sh -c "ss -Htln 'sport = :$_port' | grep -q ."
}

# client PORT [ENV...]: socat client in the background, connected
client() {
        _port=$1
        shift
        (sleep 20 | env "$@" socat - "TCP:127.0.0.1:$_port") >/dev/null 2>&1 &
        on_exit "pkill -f 'TCP:127.0.0.1:$_port' 2>/dev/null"
        wait_until 10 "connection on $_port" sh -c "ss -Htn state established 'sport = :$_port' | grep -q ."
}

server_end() { ss -Htnoe state established "sport = :$1"; }
client_end() { ss -Htnoe state established "dport = :$1"; }

# mode: socat's keepalive=0 against each mode
for mode in default force off; do
        port=$(free_port)
        serve "$port" ",keepalive=0" LD_PRELOAD="$TKA_LIB" TCPKEEPALIVE_IDLE=33 TCPKEEPALIVE_MODE=$mode
        client "$port"
        line=$(server_end "$port")
        case $mode in
        force) expect_match "$line" 'timer:\(keepalive,(3[0-3]|[0-9]|[12][0-9])(\.[0-9]+)?sec' "force: keepalive stays against keepalive=0" ;;
        *) expect_no_match "$line" 'keepalive' "$mode: socat's keepalive=0 wins" ;;
        esac
        pass "mode $mode against socat keepalive=0"
done

# socat's own keepidle=5 with keepalive on: default lets it set 5, force keeps 33.
for mode in default force; do
        port=$(free_port)
        serve "$port" ",keepalive,keepidle=5" LD_PRELOAD="$TKA_LIB" TCPKEEPALIVE_IDLE=33 TCPKEEPALIVE_MODE=$mode
        client "$port"
        line=$(server_end "$port")
        case $mode in
        default) expect_match "$line" 'timer:\(keepalive,[0-5](\.[0-9]+)?(sec|ms),' "default: socat's keepidle=5 (ss prints short timers as N.NNNms)" ;;
        force) expect_match "$line" 'timer:\(keepalive,(3[0-3]|[12][0-9]|[6-9])(\.[0-9]+)?sec' "force: idle 33 stays" ;;
        esac
        pass "mode $mode against socat keepidle=5"
done

# Direction: a listener under outbound gets nothing, under inbound gets it;
# a client under inbound gets nothing, under outbound gets it.
for dir in inbound outbound; do
        port=$(free_port)
        serve "$port" "" LD_PRELOAD="$TKA_LIB" TCPKEEPALIVE_IDLE=33 TCPKEEPALIVE_DIRECTION=$dir
        client "$port" LD_PRELOAD="$TKA_LIB" TCPKEEPALIVE_IDLE=44 TCPKEEPALIVE_DIRECTION=$dir
        s=$(server_end "$port")
        c=$(client_end "$port")
        if [ $dir = inbound ]; then
                expect_match "$s" 'timer:\(keepalive' "inbound: the accepted connection"
                expect_no_match "$c" 'keepalive' "inbound: not the outgoing connection"
        else
                expect_no_match "$s" 'keepalive' "outbound: not the accepted connection"
                expect_match "$c" 'timer:\(keepalive,(4[0-4]|[1-3][0-9])(\.[0-9]+)?sec' "outbound: the outgoing connection (idle 44)"
        fi
        pass "direction $dir on socat server and client"
done
