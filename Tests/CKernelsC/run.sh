#!/usr/bin/env bash
# Builds the CKernels sources and the C test drivers (test_kernels.c: quantized kernels; test_ops.c: the
# float ops of ck_ops.h) with one compiler and runs both; also builds the timing benches (bench_incache.c,
# bench_stream.c) without running them.
#
#   Tests/CKernelsC/run.sh [CC [EXTRA_CFLAGS...]]     (from anywhere; CC defaults to clang, else gcc)
#
# Environment: RUNNER (e.g. "qemu-aarch64 -cpu max") runs the binaries; BUILD_DIR (default a temp dir);
# TEST_ARGS / OPS_TEST_ARGS extra arguments for test_kernels / test_ops (e.g. "--seed 7").
# Each driver prints its own "N passed, N failed"; the last line is the total over both, and the exit
# status is non-zero if either driver failed.
# The kernels are built the way SwiftPM builds a C target: no -m flags, so the SIMD paths come only
# from per-function target attributes and run-time dispatch.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cc="${1:-$(command -v clang || command -v gcc)}"
shift || true
build="${BUILD_DIR:-$(mktemp -d)}"
mkdir -p "$build"
bin="$build/test_kernels-$(basename "$cc")"
# The Q6_K repacked mat-mat starts at batch 12 in the library; the tests (batches up to 20) lower that
# threshold so they reach it (the threshold only picks the kernel; the kernel is the same). Likewise the
# AVX2 Q4_0 drivers' 96 KiB of activation shares: 512 bytes makes the tests' widths take the column
# chunks (up to 2048 columns) and the in-kernel shares (wider rows); and the AVX2 Q5_0 / Q8_0 shares
# (96 KiB, Q8_0's row-tile scales 32 KiB): 2 KiB each makes 1184-column rows take the column chunks
# and 4096-column rows the fallback; Q8_0's 64-block scale chunks: 16 reaches their tails.
flags=(-std=c11 -O2 -Wall -Wextra -Werror -ffp-contract=off -DCK_R16P6_MIN_BATCH=16 -DCK_R16P_MAX_BLOCKS=3 -DCK_R16P0_MAX_BLOCKS=5 -DCK_R8_SHARE_BYTES=512 -DCK_SHARE_BYTES=2048 -DCK_Q8_DWF_BYTES=2048 -DCK_Q8_CHUNK=16 -DCK_R16S_CHUNK=3 -DCK_R16S_MIN_BATCH=2 -DCK_F16_ROUND_FLOATS=2048 -I"$root/Sources/CKernels/include" -I"$root/Sources/CKernels")
bin_ops="$build/test_ops-$(basename "$cc")"
echo "== build: $cc ${flags[*]} $*"
nice "$cc" "${flags[@]}" "$@" -o "$bin" "$root"/Sources/CKernels/*.c "$root/Tests/CKernelsC/test_kernels.c" -lm -lpthread
nice "$cc" "${flags[@]}" "$@" -o "$bin_ops" "$root"/Sources/CKernels/*.c "$root/Tests/CKernelsC/test_ops.c" -lm -lpthread
# The two timing benches are built (not run) so they keep compiling against the kernels' API.
for bench in bench_incache bench_stream; do
    nice "$cc" "${flags[@]}" "$@" -o "$build/$bench-$(basename "$cc")" "$root"/Sources/CKernels/*.c "$root/Tests/CKernelsC/$bench.c" -lm -lpthread
done

# Runs one driver, echoing its output; adds its closing counts to the totals.
passed=0
failed=0
status=0
run_driver() {
    echo "== run: ${RUNNER:-} $*"
    local out rc line
    out="$(${RUNNER:-} "$@" 2>&1)"
    rc=$?
    printf '%s\n' "$out"
    line="$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed$' | tail -1)"
    if [ -z "$line" ]; then
        echo "== $1: no result line (rc $rc)"
        failed=$((failed + 1))
        status=1
        return
    fi
    passed=$((passed + $(echo "$line" | cut -d' ' -f1)))
    failed=$((failed + $(echo "$line" | cut -d' ' -f3)))
    [ "$rc" -eq 0 ] || status=1
}
set +e
# shellcheck disable=SC2086  # TEST_ARGS / OPS_TEST_ARGS are word lists
run_driver "$bin" --fixtures "$root/Fixtures/kernels" ${TEST_ARGS:-}
# shellcheck disable=SC2086
run_driver "$bin_ops" ${OPS_TEST_ARGS:-}
echo "== total (test_kernels + test_ops)"
echo "$passed passed, $failed failed"
exit $status
