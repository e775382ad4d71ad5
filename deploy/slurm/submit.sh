#!/usr/bin/env bash
# Submits a distributed mxsurvey scan to Slurm as five chained jobs (docs/distributed.md):
#   DNS array (scan --no-probe --shard auto) -> merge -> probe array (probe --shard auto)
#   -> merge -> report
# each started only when the one before ended well (--dependency=afterok on every task).
# All paths are on a filesystem every node sees. Job ids go to WORKDIR/jobs.env, which
# rerun-task.sh reads.
#
#   deploy/slurm/submit.sh --list LIST --workdir DIR [--shards N] [--probe-shards M]
#       [--mxsurvey PATH] [--vantage LABEL] [--scan-options "..."] [--probe-options "..."]
#       [--sbatch-options "..."]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
list="" workdir="" shards=8 probe_shards="" mxsurvey="mxsurvey" vantage="" scan_options="" probe_options=""
sbatch_options=""
while [ $# -gt 0 ]; do
    case "$1" in
        --list) list="$2"; shift 2 ;;
        --workdir) workdir="$2"; shift 2 ;;
        --shards) shards="$2"; shift 2 ;;
        --probe-shards) probe_shards="$2"; shift 2 ;;
        --mxsurvey) mxsurvey="$2"; shift 2 ;;
        --vantage) vantage="$2"; shift 2 ;;
        --scan-options) scan_options="$2"; shift 2 ;;
        --probe-options) probe_options="$2"; shift 2 ;;
        --sbatch-options) sbatch_options="$2"; shift 2 ;;
        *) echo "submit.sh: unknown argument '$1'" >&2; exit 64 ;;
    esac
done
[ -n "$list" ] && [ -n "$workdir" ] || { echo "submit.sh: --list and --workdir are required" >&2; exit 64; }
case "$shards" in ''|*[!0-9]*|0) echo "submit.sh: --shards must be 1 or more" >&2; exit 64 ;; esac
probe_shards="${probe_shards:-$shards}"
case "$probe_shards" in ''|*[!0-9]*|0) echo "submit.sh: --probe-shards must be 1 or more" >&2; exit 64 ;; esac
[ -r "$list" ] || { echo "submit.sh: cannot read the list '$list'" >&2; exit 64; }
mkdir -p "$workdir/logs"
list="$(cd "$(dirname "$list")" && pwd)/$(basename "$list")"
workdir="$(cd "$workdir" && pwd)"
# One vantage label for every task: the nodes' host names differ.
vantage="${vantage:-${SLURM_CLUSTER_NAME:-slurm}}"

export MXSURVEY="$mxsurvey" WORKDIR="$workdir" LIST="$list" VANTAGE="$vantage" \
    SCAN_OPTIONS="$scan_options" PROBE_OPTIONS="$probe_options"
# shellcheck disable=SC2086
submit() { sbatch --parsable --export=ALL --chdir="$workdir" $sbatch_options "$@"; }
tasks() { # afterok on every task of array job $1 with $2 tasks
    local deps="" k
    for ((k = 0; k < $2; k++)); do deps="$deps:${1}_$k"; done
    echo "afterok$deps"
}

dns=$(submit --array="0-$((shards - 1))" --job-name=mxsurvey-dns -o "$workdir/logs/dns-%a.out" \
    "$here/dns-shard.sbatch")
merge_dns=$(submit --dependency="$(tasks "$dns" "$shards")" --job-name=mxsurvey-merge-dns \
    -o "$workdir/logs/merge-dns.out" "$here/merge.sbatch" dns.db 'dns-*.db')
probe=$(submit --dependency="afterok:$merge_dns" --array="0-$((probe_shards - 1))" \
    --job-name=mxsurvey-probe -o "$workdir/logs/probe-%a.out" "$here/probe-shard.sbatch")
merge_all=$(submit --dependency="$(tasks "$probe" "$probe_shards")" --job-name=mxsurvey-merge \
    -o "$workdir/logs/merge-all.out" "$here/merge.sbatch" all.db 'probe-*.db')
report=$(submit --dependency="afterok:$merge_all" --job-name=mxsurvey-report \
    -o "$workdir/logs/report.out" "$here/report.sbatch")
cat > "$workdir/jobs.env" <<JOBS
DNS_JOB=$dns
DNS_SHARDS=$shards
MERGE_DNS_JOB=$merge_dns
PROBE_JOB=$probe
PROBE_SHARDS=$probe_shards
MERGE_ALL_JOB=$merge_all
REPORT_JOB=$report
JOBS
echo "submitted: dns $dns ($shards tasks) -> merge $merge_dns -> probe $probe ($probe_shards tasks) -> merge $merge_all -> report $report"
echo "results: $workdir/all.db, $workdir/report.html; job ids: $workdir/jobs.env"
