#!/usr/bin/env bash
# Runs one failed or killed array task again (it resumes its shard) and lets the chain go on:
#   deploy/slurm/rerun-task.sh WORKDIR dns|probe K
# Slurm keeps a dependency that saw a failed task as never satisfied, even once that task
# is requeued and succeeds, so the next job's dependency is set again here.
set -euo pipefail
workdir="$1" phase="$2" k="$3"
# shellcheck disable=SC1091
. "$workdir/jobs.env"
case "$phase" in
    dns) job=$DNS_JOB n=$DNS_SHARDS next=$MERGE_DNS_JOB ;;
    probe) job=$PROBE_JOB n=$PROBE_SHARDS next=$MERGE_ALL_JOB ;;
    *) echo "rerun-task.sh: phase must be dns or probe, got '$phase'" >&2; exit 64 ;;
esac
scontrol requeue "${job}_$k"
scontrol update jobid="${job}_$k" StartTime=now
deps="afterok"
for ((i = 0; i < n; i++)); do deps="$deps:${job}_$i"; done
scontrol update jobid="$next" dependency="$deps"
echo "task ${job}_$k requeued; job $next waits for $deps"
