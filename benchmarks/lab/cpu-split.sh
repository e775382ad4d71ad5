#!/usr/bin/env bash
# cpu-split.sh CMD ARGS…: runs CMD and prints how the whole machine's CPU time was split
# (user, sys, idle, iowait, steal from /proc/stat) while it ran. docs/benchmarks.md §1.
#   benchmarks/lab/cpu-split.sh .build/release/mxsurvey scan --no-probe --quiet --db /tmp/s.db \
#       --resolver 127.0.0.1:PORT --dns-in-flight 1000 --dns-concurrency 2000 .bench/dns/domains.txt
read -r _ u n s i w q sq st _ < /proc/stat
"$@" > /dev/null 2>&1
read -r _ u2 n2 s2 i2 w2 q2 sq2 st2 _ < /proc/stat
t=$(( (u2-u)+(n2-n)+(s2-s)+(i2-i)+(w2-w)+(q2-q)+(sq2-sq)+(st2-st) ))
echo "user $(( 100*(u2-u+n2-n)/t ))% sys $(( 100*(s2-s+q2-q+sq2-sq)/t ))% idle $(( 100*(i2-i)/t ))% iowait $(( 100*(w2-w)/t ))% steal $(( 100*(st2-st)/t ))%"
