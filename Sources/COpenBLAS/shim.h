// OpenBLAS (CBLAS interface). Only the Kernels module imports this.
#include <cblas.h>
