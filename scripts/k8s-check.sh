#!/usr/bin/env bash
# Offline checks of deploy/k8s (docs/distributed.md says what they cover): every manifest
# against the Kubernetes 1.37 OpenAPI schemas (kubernetes-validate --strict: unknown fields
# are errors), `kubectl kustomize` builds the set, and the Indexed Jobs' completions equal
# MXSURVEY_SHARDS of the ConfigMap. No cluster is contacted (`kubectl apply --dry-run=client`
# needs an API server for discovery, so it is not used).
set -euo pipefail
cd "$(dirname "$0")/../deploy/k8s"
command -v kubernetes-validate >/dev/null || { echo "k8s-check: kubernetes-validate missing (scripts/install-deps.sh)" >&2; exit 1; }
manifests=(pvc.yaml configmap.yaml dns-job.yaml merge-dns-job.yaml probe-job.yaml merge-job.yaml)
kubernetes-validate --strict --quiet "${manifests[@]}"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
kubectl kustomize . >"$out"
[ "$(grep -c '^kind: Job' "$out")" -eq 4 ] || { echo "k8s-check: kustomize does not yield the 4 Jobs" >&2; exit 1; }
shards=$(sed -n 's/^  MXSURVEY_SHARDS: "\([0-9]*\)"/\1/p' configmap.yaml)
for job in dns-job.yaml probe-job.yaml; do
    n=$(sed -n 's/^  completions: \([0-9]*\)/\1/p' "$job")
    [ "$n" = "$shards" ] || { echo "k8s-check: $job has $n completions, MXSURVEY_SHARDS is $shards" >&2; exit 1; }
done
echo "k8s-check: ${#manifests[@]} manifests valid against the schemas, kustomize builds, $shards shards each phase"
echo "1 passed, 0 failed"
