// SPDX-License-Identifier: Apache-2.0
// COBENCH_HD marks a function that CUDA device code and plain host C++ both call: __host__
// __device__ under nvcc, nothing in a host-only translation unit.
#pragma once

#if defined(__CUDACC__)
#define COBENCH_HD __host__ __device__
#else
#define COBENCH_HD
#endif
