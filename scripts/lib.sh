# Shared shell helpers for demo.sh and bench.sh: start private servers on loopback and
# stop them by PID. Source this file; call cleanup_all from an EXIT trap.
PIDS=()

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# start_unbound DIR ZONEFILE ORIGIN → sets UNBOUND_PORT; serves ZONEFILE as an auth-zone for
# ORIGIN on 127.0.0.1:UNBOUND_PORT, answers the root's SOA and NS from local data and refuses
# everything else (never queries the internet).
start_unbound() {
    local dir zone=$2 origin=$3
    dir=$(realpath -m "$1")
    mkdir -p "$dir"
    UNBOUND_PORT=$(free_port)
    cat > "$dir/unbound.conf" <<CONF
server:
    interface: 127.0.0.1
    port: $UNBOUND_PORT
    do-daemonize: no
    username: ""
    chroot: ""
    directory: "$dir"
    pidfile: "$dir/unbound.pid"
    use-syslog: no
    logfile: ""
    verbosity: 0
    access-control: 127.0.0.0/8 allow
    do-not-query-localhost: no
    num-threads: ${UNBOUND_THREADS:-1}
    msg-cache-size: 64m
    rrset-cache-size: 128m
    outgoing-range: 64
    so-rcvbuf: 8m
    module-config: "iterator"
    local-zone: "." refuse
    # The root answers SOA and NS like any recursive resolver: mxsurvey asks '. NS' to
    # check that the resolver answers before it starts.
    local-data: ". 3600 IN SOA localhost. nobody.invalid. 1 3600 600 86400 60"
    local-data: ". 3600 IN NS localhost."
    local-zone: "$origin" transparent
auth-zone:
    name: "$origin"
    zonefile: "$(realpath "$zone")"
    for-downstream: yes
    for-upstream: yes
    fallback-enabled: no
remote-control:
    control-enable: no
CONF
    unbound -d -c "$dir/unbound.conf" > "$dir/unbound.log" 2>&1 &
    UNBOUND_PID=$!
    PIDS+=("$UNBOUND_PID")
    for _ in $(seq 1 100); do
        if dig_ok; then return 0; fi
        kill -0 "$UNBOUND_PID" 2>/dev/null || { cat "$dir/unbound.log" >&2; return 1; }
        sleep 0.1
    done
    echo "unbound did not answer on 127.0.0.1:$UNBOUND_PORT" >&2
    return 1
}

dig_ok() {
    python3 - "$UNBOUND_PORT" <<'PY'
import socket, sys
q = bytes.fromhex("abcd01000001000000000000") + b"\x04test\x00\x00\x06\x00\x01"
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(0.2)
try:
    s.sendto(q, ("127.0.0.1", int(sys.argv[1]))); s.recv(512); sys.exit(0)
except Exception:
    sys.exit(1)
PY
}

# start_farm DIR ARGS… → runs mxfarm in the background, waits for "ready"; sets FARM_PID.
start_farm() {
    local dir=$1; shift
    mkdir -p "$dir"
    rm -f "$dir/farm.out"
    "$BIN/mxfarm" --out "$dir" "$@" > "$dir/farm.out" 2> "$dir/farm.err" &
    FARM_PID=$!
    PIDS+=("$FARM_PID")
    for _ in $(seq 1 600); do
        grep -q '^ready' "$dir/farm.out" 2>/dev/null && return 0
        kill -0 "$FARM_PID" 2>/dev/null || { cat "$dir/farm.err" >&2; return 1; }
        sleep 0.1
    done
    echo "mxfarm did not become ready" >&2
    return 1
}

cleanup_all() {
    local pid
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do
        for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    PIDS=()
}
