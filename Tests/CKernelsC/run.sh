#!/usr/bin/env bash
# Builds the CKernels sources and the C test driver with one compiler and runs it.
#
#   Tests/CKernelsC/run.sh [CC [EXTRA_CFLAGS...]]     (from anywhere; CC defaults to clang, else gcc)
#
# Environment: RUNNER (e.g. "qemu-aarch64 -cpu max") runs the binary; BUILD_DIR (default a temp dir).
# The kernels are built the way SwiftPM builds a C target: no -m flags, so the SIMD paths come only
# from per-function target attributes and run-time dispatch.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cc="${1:-$(command -v clang || command -v gcc)}"
shift || true
build="${BUILD_DIR:-$(mktemp -d)}"
mkdir -p "$build"
bin="$build/test_kernels-$(basename "$cc")"
flags=(-std=c11 -O2 -Wall -Wextra -Werror -ffp-contract=off -I"$root/Sources/CKernels/include" -I"$root/Sources/CKernels")
echo "== build: $cc ${flags[*]} $*"
nice "$cc" "${flags[@]}" "$@" -o "$bin" "$root"/Sources/CKernels/*.c "$root/Tests/CKernelsC/test_kernels.c" -lm -lpthread
echo "== run: ${RUNNER:-} $bin"
${RUNNER:-} "$bin" --fixtures "$root/Fixtures/kernels" ${TEST_ARGS:-}
