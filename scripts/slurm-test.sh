#!/usr/bin/env bash
# The distributed scan on a real single-node Slurm cluster (docs/distributed.md): munged,
# slurmctld and slurmd from Debian's slurm-wlm/munge with a private configuration (state,
# spool, PID and log files under a temporary directory, free loopback ports), mxfarm and
# unbound on loopback. deploy/slurm/submit.sh runs unchanged with 4 DNS and 4 probe shards;
# one probe task is killed half way (SIGKILL through Slurm) and run again with
# deploy/slurm/rerun-task.sh. Checks: the merged `results` equal a one-process scan of the
# same list column for column (but scan_id and probed_at), every address got one session
# (the killed task's address in flight at most two), the report was written. Every daemon
# is stopped by its PID at the end. Run as root (CI); `make slurm-test`.
#
#   scripts/slurm-test.sh [BIN_DIR]      (default .build/debug; needs mxsurvey and mxfarm)
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$(pwd)"
bin="$(cd "${1:-.build/debug}" && pwd)"
mxsurvey="$bin/mxsurvey"
mxfarm="$bin/mxfarm"
for tool in "$mxsurvey" "$mxfarm"; do
    [ -x "$tool" ] || { echo "slurm-test: $tool is missing (swift build first)" >&2; exit 1; }
done
for tool in munged mungekey slurmctld slurmd sbatch scontrol squeue scancel unbound sqlite3; do
    command -v "$tool" >/dev/null || { echo "slurm-test: $tool is missing (scripts/install-deps.sh)" >&2; exit 1; }
done

state="$(mktemp -d /tmp/mxsurvey-slurm.XXXXXX)"
chmod 755 "$state"
pids=()
cleanup() {
    local status=$?
    # Stop by PID, last started first; SIGKILL what is still there after 10 s.
    for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill "${pids[i]}" 2>/dev/null || true; done
    for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
        for _ in $(seq 100); do kill -0 "${pids[i]}" 2>/dev/null || break; sleep 0.1; done
        kill -9 "${pids[i]}" 2>/dev/null || true
        wait "${pids[i]}" 2>/dev/null || true
    done
    if [ $status -ne 0 ]; then
        echo "slurm-test: FAILED; logs:" >&2
        tail -n 20 "$state"/*.log "$state"/*.out "$state"/run/logs/*.out >&2 2>/dev/null || true
    fi
    rm -rf "$state"
    exit $status
}
trap cleanup EXIT
fail() { echo "slurm-test: $*" >&2; exit 1; }
free_port() { python3 -c 'import socket,sys; s=socket.socket(); s.bind((sys.argv[1], 0)); print(s.getsockname()[1])' "$1"; }
wait_for() { # seconds, command...
    local limit=$1; shift
    for _ in $(seq $((limit * 10))); do "$@" && return 0; sleep 0.1; done
    return 1
}

# munge: a private key and socket.
mkdir -p "$state/munge" && chmod 711 "$state/munge"
mungekey --create --keyfile "$state/munge/munge.key" && chmod 600 "$state/munge/munge.key"
munged --foreground --force --key-file="$state/munge/munge.key" --socket="$state/munge/socket" \
    --pid-file="$state/munge/munged.pid" --log-file="$state/munged.log" --seed-file="$state/munge/seed" \
    >"$state/munged.out" 2>&1 &
pids+=($!)
wait_for 10 test -S "$state/munge/socket" || fail "munged did not start"

# Slurm: one node on localhost, its own ports, state, spool, PID and log files.
ctld_port=$(free_port 127.0.0.1)
slurmd_port=$(free_port 127.0.0.1)
mkdir -p "$state/ctld" "$state/spool"
export SLURM_CONF="$state/slurm.conf"
cat >"$SLURM_CONF" <<CONF
ClusterName=mxsurveytest
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$state/munge/socket
CredType=cred/munge
StateSaveLocation=$state/ctld
SlurmdSpoolDir=$state/spool
SlurmctldPidFile=$state/slurmctld.pid
SlurmdPidFile=$state/slurmd.pid
SlurmctldLogFile=$state/slurmctld.log
SlurmdLogFile=$state/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SwitchType=switch/none
MpiDefault=none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SlurmdParameters=config_overrides
ReturnToService=2
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
MailProg=/bin/true
NodeName=mxnode NodeHostname=localhost NodeAddr=127.0.0.1 CPUs=4 RealMemory=4000 State=UNKNOWN
PartitionName=test Nodes=mxnode Default=YES MaxTime=INFINITE State=UP
CONF
slurmctld -D -f "$SLURM_CONF" >"$state/slurmctld.out" 2>&1 &
pids+=($!)
slurmd -D -N mxnode -f "$SLURM_CONF" >"$state/slurmd.out" 2>&1 &
pids+=($!)
node_idle() { [ "$(sinfo -h -N -o %t 2>/dev/null)" = "idle" ]; }
wait_for 60 node_idle || fail "the Slurm node did not come up"

# The farm and a resolver serving its zone, on 127.62.0.0/16.
farm="$state/farm"
"$mxfarm" --hosts 40 --domains 240 --seed 14 --out "$farm" --base 127.62.0.1 --port 2602 \
    --mix "tls13=12,tls12=10,tls11=2,tls10=2,nostarttls=6,plainrefused=3,starttls454=2,ratelimit421=3" \
    --delay uniform:0-0.1 --threads 1 --sessions-out "$state/sessions.json" >"$state/farm.out" 2>"$state/farm.log" &
farm_pid=$!
pids+=($farm_pid)
wait_for 60 grep -q ready "$state/farm.out" || fail "mxfarm did not start"
dns_port=$(free_port 127.62.1.200)
mkdir -p "$state/unbound"
cat >"$state/unbound/unbound.conf" <<CONF
server:
  verbosity: 0
  use-syslog: no
  logfile: "$state/unbound.log"
  username: ""
  chroot: ""
  directory: "$state/unbound"
  pidfile: "$state/unbound/unbound.pid"
  do-daemonize: no
  interface: 127.62.1.200
  port: $dns_port
  do-ip6: no
  access-control: 127.0.0.0/8 allow
  module-config: "iterator"
  do-not-query-localhost: no
  local-zone: "." refuse
  local-data: ". 3600 IN SOA localhost. nobody.invalid. 1 3600 600 86400 60"
  local-data: ". 3600 IN NS localhost."
  local-zone: "test." transparent
remote-control:
  control-enable: no
auth-zone:
  name: "test."
  zonefile: "$farm/zone"
  for-downstream: yes
  for-upstream: yes
  fallback-enabled: no
CONF
unbound -d -c "$state/unbound/unbound.conf" >"$state/unbound.out" 2>&1 &
pids+=($!)
resolves() { "$mxsurvey" resolve --resolver "127.62.1.200:$dns_port" d1.test 2>/dev/null | grep -q "127.62"; }
wait_for 30 resolves || fail "unbound did not answer"

options="--resolver 127.62.1.200:$dns_port --allow-private --port 2602 --ca-file $farm/ca.pem \
--ehlo-name probe.mxsurvey.test --mail-from survey@probe.mxsurvey.test --banner-timeout 5 --phase-timeout 5 --quiet \
--no-version-scan"
# (--no-version-scan: the farm counts one session per address; the version scan's own
# sessions would come from the same shard, see docs/distributed.md.)
work="$state/run"
mkdir -p "$work"

# The recipe, unchanged: 4 DNS shards, 4 probe shards (slow enough to be killed half way).
deploy/slurm/submit.sh --list "$farm/domains.txt" --workdir "$work" --shards 4 --probe-shards 4 \
    --mxsurvey "$mxsurvey" --vantage slurm-test --scan-options "$options" \
    --probe-options "--rate 4 --concurrency 1 --quiet"
# shellcheck disable=SC1091
. "$work/jobs.env"
probes_stored() { [ "$(sqlite3 "$work/probe-1.db" 'SELECT count(*) FROM probes' 2>/dev/null || echo 0)" -gt 0 ]; }
wait_for 240 probes_stored || fail "probe task 1 stored no probe"
scancel --full --signal=KILL "${PROBE_JOB}_1"
task_ended() { ! squeue -h -j "${PROBE_JOB}_1" -o %T 2>/dev/null | grep -q .; }
wait_for 30 task_ended || fail "the killed task did not end"
status=$(sqlite3 "$work/probe-1.db" 'SELECT status FROM scans')
[ "$status" != done ] || fail "the killed shard's scan is done: it was not cut off"
deploy/slurm/rerun-task.sh "$work" probe 1
report_done() { scontrol show job "$REPORT_JOB" 2>/dev/null | grep -q 'JobState=COMPLETED'; }
report_failed() { scontrol show job "$REPORT_JOB" 2>/dev/null | grep -Eq 'JobState=(FAILED|CANCELLED)|DependencyNeverSatisfied'; }
for _ in $(seq 3000); do report_done && break; report_failed && fail "the chain stopped: $(scontrol show job "$REPORT_JOB" | grep -o 'JobState=[A-Z]* Reason=[A-Za-z]*')"; sleep 0.1; done
report_done || fail "the report job did not complete"
[ -s "$work/report.html" ] || fail "no report"

# Sessions so far (SIGUSR1): one per address, two at most for the address the killed task
# had in flight.
rm -f "$state/sessions.json"
kill -USR1 "$farm_pid"
wait_for 10 test -s "$state/sessions.json" || fail "mxfarm wrote no session counts"
python3 - "$state/sessions.json" "$farm/truth.jsonl" "$work/probe-1.db" <<'PY'
import json, sqlite3, sys
sessions = json.load(open(sys.argv[1]))
served = {h["ip"] for h in map(json.loads, open(sys.argv[2])) if h["domain_count"] > 0}
killed_shard = {ip for (ip,) in sqlite3.connect(sys.argv[3]).execute("SELECT ip FROM probes")}
assert set(sessions) == served, f"addresses contacted {sorted(set(sessions) ^ served)} differ from those that serve a domain"
twice = {ip for ip, n in sessions.items() if n != 1}
assert all(sessions[ip] == 2 for ip in twice) and len(twice) <= 1 and twice <= killed_shard, f"sessions: {twice}"
print(f"slurm-test: {len(sessions)} addresses, one session each" + (f" ({sorted(twice)} twice: in flight when its task was killed)" if twice else ""))
PY

# The one-process scan of the same list on the same farm; the results must be equal.
# shellcheck disable=SC2086
"$mxsurvey" scan --vantage slurm-test --db "$state/one.db" $options "$farm/domains.txt" >/dev/null
columns=$(sqlite3 "$state/one.db" "SELECT group_concat(name, ', ') FROM pragma_table_info('results') WHERE name NOT IN ('scan_id', 'probed_at')")
view() { sqlite3 -header "$1" "SELECT $columns FROM results ORDER BY domain, mx_host, ip"; }
view "$state/one.db" >"$state/one.txt"
view "$work/all.db" >"$state/all.txt"
[ "$(wc -l <"$state/one.txt")" -gt 240 ] || fail "the one-process scan has too few rows"
diff -u "$state/one.txt" "$state/all.txt" >"$state/diff.txt" || fail "merged results differ: $(head -20 "$state/diff.txt")"
echo "slurm-test: merged results equal the one-process scan ($(($(wc -l <"$state/one.txt") - 1)) rows)"
echo "1 passed, 0 failed"
