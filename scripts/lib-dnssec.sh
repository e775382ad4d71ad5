# Sourced after scripts/lib.sh. DNSSEC for a farm written with `mxfarm --dnssec-mix`.
#
# start_dnssec_unbound DIR FARMDIR [validate|plain] → sets UNBOUND_PORT.
# Signs FARMDIR's zones (zones.txt: NAME FILE KIND) with ldns-keygen/ldns-signzone into DIR:
# `secure` zones with a new KSK + ZSK, anchored with the KSK's DS; `bogus` zones likewise but
# anchored with the DS of a key that signs nothing; `insecure` zones served as they are. An
# authoritative-only unbound serves them all; a second unbound in front of it (stub zones)
# is the resolver a scan uses: `validate` (default) runs `validator iterator` with the trust
# anchors, `plain` only `iterator` (no validation, no anchors: every answer insecure) for a
# twin run that measures what validation and the TLSA lookups cost. Both are on 127.0.0.1
# and stopped by cleanup_all; DNSSEC_UNBOUND_PIDS holds their PIDs (unbound_cpu_seconds).
start_dnssec_unbound() {
    local dir farm=$2 mode=${3:-validate} name file kind stem ksk zsk other anchors="" stubs="" auth=""
    dir=$(realpath -m "$1")
    farm=$(realpath "$farm")
    DNSSEC_UNBOUND_PIDS=()
    mkdir -p "$dir/keys"
    local inception
    inception=$(date -u -d '1 hour ago' +%Y%m%d%H%M%S)
    while read -r name file kind; do
        [[ -z "$name" ]] && continue
        stem=${name//./_}
        case "$kind" in
            insecure)
                cp "$farm/$file" "$dir/$stem.zone"
                ;;
            secure | bogus)
                cp "$farm/$file" "$dir/keys/$stem.zone"
                ksk=$(cd "$dir/keys" && ldns-keygen -a ECDSAP256SHA256 -k "$name")
                zsk=$(cd "$dir/keys" && ldns-keygen -a ECDSAP256SHA256 "$name")
                (cd "$dir/keys" && ldns-signzone -i "$inception" "$stem.zone" "$zsk" "$ksk")
                mv "$dir/keys/$stem.zone.signed" "$dir/$stem.zone"
                if [[ $kind == bogus ]]; then
                    other=$(cd "$dir/keys" && ldns-keygen -a ECDSAP256SHA256 -k "$name")
                    anchors+="    trust-anchor: \"$(head -1 "$dir/keys/$other.ds" | tr '\t' ' ')\""$'\n'
                else
                    anchors+="    trust-anchor: \"$(head -1 "$dir/keys/$ksk.ds" | tr '\t' ' ')\""$'\n'
                fi
                ;;
            *)
                echo "zones.txt: unknown zone kind '$kind' for $name" >&2
                return 1
                ;;
        esac
        auth+="auth-zone:"$'\n'"    name: \"$name\""$'\n'"    zonefile: \"$dir/$stem.zone\""$'\n'
        auth+="    for-downstream: yes"$'\n'"    for-upstream: yes"$'\n'"    fallback-enabled: no"$'\n'
        stubs+="$name"$'\n'
    done < "$farm/zones.txt"

    local auth_port
    auth_port=$(free_port)
    _dnssec_unbound_conf "$dir/auth.conf" "$auth_port" iterator "$dir" "$stubs" "" > /dev/null
    printf '%s' "$auth" >> "$dir/auth.conf"
    _dnssec_unbound_start "$dir/auth.conf" "$auth_port" "$dir/auth.log"

    UNBOUND_PORT=$(free_port)
    local modules="validator iterator"
    if [[ $mode == plain ]]; then
        modules=iterator
        anchors=""
    fi
    _dnssec_unbound_conf "$dir/resolver.conf" "$UNBOUND_PORT" "$modules" "$dir" "$stubs" "$anchors"
    local zone
    while read -r zone; do
        [[ -z "$zone" ]] && continue
        printf 'stub-zone:\n    name: "%s"\n    stub-addr: 127.0.0.1@%s\n' "$zone" "$auth_port" >> "$dir/resolver.conf"
    done <<< "$stubs"
    _dnssec_unbound_start "$dir/resolver.conf" "$UNBOUND_PORT" "$dir/resolver.log"
}

# _dnssec_unbound_conf FILE PORT MODULES DIR ZONES ANCHORS: the server clause (ZONES are made
# transparent local zones, everything else refused; ANCHORS are trust-anchor lines).
_dnssec_unbound_conf() {
    local conf=$1 port=$2 modules=$3 dir=$4 zones=$5 anchors=$6 zone
    cat > "$conf" <<CONF
server:
    interface: 127.0.0.1
    port: $port
    do-daemonize: no
    username: ""
    chroot: ""
    directory: "$dir"
    pidfile: ""
    use-syslog: no
    logfile: ""
    verbosity: 0
    access-control: 127.0.0.0/8 allow
    do-not-query-localhost: no
    num-threads: ${UNBOUND_THREADS:-1}
    msg-cache-size: 64m
    rrset-cache-size: 128m
    key-cache-size: 16m
    outgoing-range: 64
    so-rcvbuf: 8m
    qname-minimisation: no
    module-config: "$modules"
    local-zone: "." refuse
    local-data: ". 3600 IN SOA localhost. nobody.invalid. 1 3600 600 86400 60"
    local-data: ". 3600 IN NS localhost."
CONF
    while read -r zone; do
        [[ -z "$zone" ]] && continue
        echo "    local-zone: \"$zone\" transparent" >> "$conf"
    done <<< "$zones"
    printf '%s' "$anchors" >> "$conf"
    printf 'remote-control:\n    control-enable: no\n' >> "$conf"
}

# _dnssec_unbound_start CONF PORT LOG: starts unbound, waits until PORT answers.
_dnssec_unbound_start() {
    local conf=$1 port=$2 log=$3 pid
    unbound -d -c "$conf" > "$log" 2>&1 &
    pid=$!
    PIDS+=("$pid")
    DNSSEC_UNBOUND_PIDS+=("$pid")
    for _ in $(seq 1 100); do
        if UNBOUND_PORT=$port dig_ok; then return 0; fi
        kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; return 1; }
        sleep 0.1
    done
    echo "unbound did not answer on 127.0.0.1:$port" >&2
    return 1
}

# unbound_cpu_seconds PID… → the user + system CPU seconds the processes used so far.
unbound_cpu_seconds() {
    python3 - "$@" <<'PY'
import os, sys
tick = os.sysconf("SC_CLK_TCK")
total = 0
for pid in sys.argv[1:]:
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    total += int(fields[11]) + int(fields[12])
print(f"{total / tick:.3f}")
PY
}
