#!/usr/bin/env bash
# Installs the system packages mxsurvey builds against, the real servers its tests and demo
# start (unbound, Postfix, nginx for MTA-STS policy hosts, swaks as a sending client, with
# libnet-ssleay-perl for its STARTTLS),
# ldnsutils to sign the DNSSEC test zones, the public suffix list, zlib for gzip'd logs,
# Slurm and munge for the single-node cluster of the distributed-scan test
# (scripts/slurm-test.sh), libidn12 for the unpacked Exim of the log tests (scripts/fetch-exim.sh),
# libevent-2.1-7 and libdb5.3 for the unpacked OpenSMTPD (scripts/fetch-opensmtpd.sh), dnsperf and
# pflogsumm for `make bench`, python3-jsonschema to check the report's JSON
# against docs/report.schema.json in the tests, heaptrack for the TLS leak check
# (scripts/tls-leakcheck.sh, run by CI), and pyarrow (PyPI: Debian 12 has none) with which
# `mxsurvey export --format parquet` writes Parquet. Debian 12; run as root. Services the packages
# would start on install are kept down: tests start their own private instances.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
apt-get update -q
apt-get install -y -q --no-install-recommends \
    pkg-config libssl-dev libsqlite3-dev libc-ares-dev sqlite3 openssl ca-certificates \
    unbound postfix dnsperf heaptrack \
    nginx-light ldnsutils swaks libnet-ssleay-perl pflogsumm publicsuffix zlib1g-dev python3-jsonschema \
    libidn12 libevent-2.1-7 libdb5.3 slurm-wlm munge
# pyarrow for the python3 on the PATH (Sources/SurveyReport/ParquetWriter.swift names this
# version in its error message). Debian's own python3 is "externally managed" (PEP 668).
PYARROW_VERSION=26.0.1
python3 -m pip --version >/dev/null 2>&1 \
    || apt-get install -y -q --no-install-recommends python3-pip
python3 -m pip install -q "pyarrow==$PYARROW_VERSION" \
    || python3 -m pip install -q --break-system-packages "pyarrow==$PYARROW_VERSION"
# Offline schema check of deploy/k8s (scripts/k8s-check.sh); PyPI, no Debian package.
python3 -m pip install --quiet kubernetes-validate==1.37.0 2>/dev/null \
    || python3 -m pip install --quiet --break-system-packages kubernetes-validate==1.37.0
