#!/usr/bin/env bash
# Runs the phases one after another (Kubernetes Jobs have no dependencies of their own):
#   deploy/k8s/run.sh [NAMESPACE]
# The list must be at list.txt on the volume claim first (e.g. kubectl cp into a pod
# that mounts it). Timeouts are generous; a failed pod is retried by its Job (backoffLimit)
# and resumes its shard.
set -euo pipefail
cd "$(dirname "$0")"
ns=(--namespace "${1:-default}")
kubectl "${ns[@]}" apply -f pvc.yaml -f configmap.yaml
for job in dns-job merge-dns-job probe-job merge-job; do
    kubectl "${ns[@]}" apply -f "$job.yaml"
    name=$(kubectl "${ns[@]}" get -f "$job.yaml" -o name)
    kubectl "${ns[@]}" wait --for=condition=complete --timeout=72h "$name"
done
echo "done: all.db and report.html on the volume claim mxsurvey-work"
