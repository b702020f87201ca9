// OpenBLAS's CBLAS interface (Debian libopenblas-dev); pkg-config adds its include directory.
#pragma once
#include <cblas.h>
// Declared by OpenBLAS's own header too on recent versions; repeated so older headers work.
char *openblas_get_config(void);
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
