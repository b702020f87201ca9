// libFuzzer's entry for a program with its own main (built only with BRISE_FUZZ=1; scripts/build-asan
// links libFuzzer without its main, so brised's modules can share the instrumented build).
#ifndef BRISE_CFUZZDRIVER_H
#define BRISE_CFUZZDRIVER_H

#include <stddef.h>
#include <stdint.h>

/// Runs libFuzzer with the command line in `argc`/`argv` on `test_one_input`; returns its exit status.
int brise_fuzz_run_driver(int *argc, char ***argv, int (*test_one_input)(const uint8_t *data, size_t size));

#endif
