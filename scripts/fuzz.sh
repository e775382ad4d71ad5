#!/usr/bin/env bash
# libFuzzer targets for the parsers of untrusted input (Tests/Fuzz/README.md).
#
#   scripts/fuzz.sh build              compile every target into .build-fuzz/fuzz/bin
#   scripts/fuzz.sh run [TARGET...]    FUZZ_RUNS executions each (default 1000000)   make fuzz
#   scripts/fuzz.sh smoke [TARGET...]  FUZZ_SECONDS seconds each (default 20)       make fuzz-smoke
#
# Each run starts from the committed corpus (Tests/Fuzz/corpus/TARGET) and the regression
# inputs (Tests/Fuzz/regressions/TARGET); what it adds goes to a temporary directory that is
# removed afterwards. A crash, an invariant failure, a leak or a 10 s hang fails the run; the
# input is kept in .build-fuzz/fuzz/artifacts/TARGET/ and the log in .build-fuzz/fuzz/logs/.
#
# Targets are compiled with swiftc, not SwiftPM (libFuzzer brings its own main): SurveyCore as
# an instrumented library every target links, the parser's sources compiled into the target's
# own module, NIOCore's objects (and swift-collections' Deque) from a SwiftPM build in the
# scratch path .build-fuzz.
set -euo pipefail
cd "$(dirname "$0")/.."

# target        max_len  needs  sources compiled with Tests/Fuzz/TARGET.swift
TARGETS='
smtp_reply      4096     nio    Sources/SurveyProbe/SMTPReplyParser.swift
dns_answer      4096     nio+cares Sources/SurveyDNS/*.swift
input_reader    5000     -
domain_name     1024     -
received_header 8192     -      Sources/SurveyHeaders/HeaderBlock.swift Sources/SurveyHeaders/ReceivedParser.swift Sources/SurveyHeaders/OwnHosts.swift
'
SCRIPT=scripts/fuzz.sh
SCRATCH=.build-fuzz
OUT=$SCRATCH/fuzz
SWIFTC=${SWIFTC:-swiftc}
SEED_OPTION=
WORK_DIR=
trap 'if [[ -n $WORK_DIR ]]; then rm -rf "$WORK_DIR"; fi' EXIT
FLAGS=(-O -g -sanitize=fuzzer,address -swift-version 6 -parse-as-library)
# NIOCore and the modules it depends on (SwiftPM builds them; their objects are linked).
NIO_MODULES=(NIOCore NIOConcurrencyHelpers _NIOBase64 _NIODataStructures DequeModule
    InternalCollectionsUtilities ContainersPreview Atomics _AtomicsShims CNIOAtomics CNIOLinux
    CNIODarwin CNIOFreeBSD CNIOOpenBSD CNIOWindows CNIOWASI)

targets() { awk 'NF { print $1 }' <<< "$TARGETS"; }
field() { awk -v t="$1" -v f="$2" '$1 == t { print $f }' <<< "$TARGETS"; }
sources() { awk -v t="$1" '$1 == t { $1 = $2 = $3 = ""; print }' <<< "$TARGETS"; }

build_nio() {
    swift build -c release --scratch-path "$SCRATCH" --target NIOCore 2>&1 | tail -n 1
    NIO_FLAGS=(-I "$SCRATCH/release/Modules")
    local map module
    while IFS= read -r map; do NIO_FLAGS+=(-Xcc "-fmodule-map-file=$map"); done < <(
        find -H "$SCRATCH/release" -maxdepth 2 -path '*CNIO*.build/module.modulemap'
        find "$SCRATCH/checkouts/swift-atomics/Sources/_AtomicsShims" -name module.modulemap)
    NIO_OBJECTS=()
    for module in "${NIO_MODULES[@]}"; do
        while IFS= read -r -d '' object; do NIO_OBJECTS+=("$object"); done < <(
            find -H "$SCRATCH/release/$module.build" -name '*.o' -print0)
    done
}

# stale OUTPUT INPUT...: true when OUTPUT is missing or older than an input.
stale() {
    local output=$1 input
    shift
    [[ -e $output ]] || return 0
    for input; do [[ $input -nt $output ]] && return 0; done
    return 1
}

build() {
    mkdir -p "$OUT/lib" "$OUT/bin"
    local need_nio=false target
    for target in $(targets); do [[ $(field "$target" 3) == nio* ]] && need_nio=true; done
    if $need_nio; then
        echo "== NIOCore (swift build --scratch-path $SCRATCH)"
        build_nio
    fi
    # -enable-testing: targets reach internal API with @testable import.
    if stale "$OUT/lib/libSurveyCore.a" Sources/SurveyCore/*.swift "$SCRIPT"; then
        echo "== SurveyCore"
        "$SWIFTC" "${FLAGS[@]}" -enable-testing -module-name SurveyCore -emit-library -static \
            -emit-module -emit-module-path "$OUT/lib/SurveyCore.swiftmodule" -o "$OUT/lib/libSurveyCore.a" \
            Sources/SurveyCore/*.swift 2>&1 | filter_linker_noise
    fi
    for target in $(targets); do
        local extra=() srcs
        # shellcheck disable=SC2207  # the sources column holds globs
        srcs=($(sources "$target"))
        case $(field "$target" 3) in
            nio) extra=("${NIO_FLAGS[@]}" "${NIO_OBJECTS[@]}") ;;
            cares) extra=(-I Sources/CAres $(pkg-config --libs libcares)) ;;
            # SurveyDNS uses swift-collections' Deque, built with NIOCore's dependencies.
            nio+cares) extra=("${NIO_FLAGS[@]}" "${NIO_OBJECTS[@]}" -I Sources/CAres $(pkg-config --libs libcares)) ;;
        esac
        stale "$OUT/bin/$target" "${srcs[@]}" Tests/Fuzz/Support/*.swift "Tests/Fuzz/$target.swift" \
            "$OUT/lib/libSurveyCore.a" "$SCRIPT" || continue
        echo "== $target"
        "$SWIFTC" "${FLAGS[@]}" -module-name "fuzz_$target" -I "$OUT/lib" -L "$OUT/lib" -lSurveyCore \
            "${srcs[@]}" Tests/Fuzz/Support/*.swift "Tests/Fuzz/$target.swift" "${extra[@]}" \
            -o "$OUT/bin/$target" 2>&1 | filter_linker_noise
    done
}

# ld.gold warns about every ASan helper it cannot export; nothing else is dropped.
filter_linker_noise() { grep -v "Cannot export local symbol '__asan" || true; }

# fuzz TARGET LIBFUZZER-OPTION: one run; prints a summary line, returns libFuzzer's status.
fuzz() {
    local target=$1 limit=$2
    local work artifacts=$OUT/artifacts/$target log=$OUT/logs/$target.log
    work=$(mktemp -d "${TMPDIR:-/tmp}/fuzz-$target.XXXXXX")
    WORK_DIR=$work  # removed by the EXIT trap too, when a run is interrupted
    mkdir -p "$artifacts" "$OUT/logs"
    local corpora=("$work" "Tests/Fuzz/corpus/$target")
    [[ -d Tests/Fuzz/regressions/$target ]] && corpora+=("Tests/Fuzz/regressions/$target")
    local status=0 started=$SECONDS
    # Swift's own crash backtracer would trip AddressSanitizer; libFuzzer prints the stack.
    SWIFT_BACKTRACE=enable=no "$OUT/bin/$target" "$limit" ${SEED_OPTION:+"$SEED_OPTION"} -max_len="$(field "$target" 2)" -timeout=10 -print_final_stats=1 \
        -artifact_prefix="$artifacts/" "${corpora[@]}" > "$log" 2>&1 || status=$?
    local corpus
    corpus=$(find "$work" -type f | wc -l)
    rm -rf "$work"
    local runs rate cov rss
    runs=$(awk '/stat::number_of_executed_units/ { print $2 }' "$log")
    rate=$(awk '/stat::average_exec_per_sec/ { print $2 }' "$log")
    rss=$(awk '/stat::peak_rss_mb/ { print $2 }' "$log")
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)
    printf '%-13s %9s runs %6d s %7s exec/s  cov %5s  +%d inputs  rss %s MB  %s\n' "$target" \
        "${runs:-?}" $((SECONDS - started)) "${rate:-?}" "${cov:-?}" "$corpus" "${rss:-?}" \
        "$([[ $status == 0 ]] && echo ok || echo "FAILED (status $status, log $log)")"
    if [[ $status != 0 ]]; then
        grep -E 'ERROR|invariant broken|Fatal error|SUMMARY|Test unit written' "$log" | head -n 20 | cut -c1-400 >&2 || true
    fi
    return "$status"
}

command=${1:-}
shift || true
selected=("$@")
[[ ${#selected[@]} == 0 ]] && mapfile -t selected < <(targets)
case $command in
    build) build ;;
    run | smoke)
        build
        if [[ $command == run ]]; then limit=-runs=${FUZZ_RUNS:-1000000}; else limit=-max_total_time=${FUZZ_SECONDS:-20}; fi
        # The smoke (CI) starts from a fixed seed, so a red run can be replayed; `run` explores anew.
        [[ $command == smoke ]] && SEED_OPTION=-seed=${FUZZ_SEED:-1} || SEED_OPTION=
        echo "== fuzzing ($limit)"
        failed=()
        for target in "${selected[@]}"; do fuzz "$target" "$limit" || failed+=("$target"); done
        if [[ ${#failed[@]} != 0 ]]; then
            echo "fuzz: failed: ${failed[*]}" >&2
            exit 1
        fi
        ;;
    *)
        sed -n '2,7p' "$SCRIPT" >&2
        exit 64
        ;;
esac
