// SPDX-License-Identifier: Apache-2.0
// The tensor-core accumulation probe, device half: runs the crafted inner products of
// probe_interpret.h on the GPU's FP8 MMA and reads what the accumulator kept, with either
//   kWgmma    wgmma.mma_async m64n8k32 E4M3 (sm_90a only): Hopper's FP8 tensor-core path, the one
//             DeepSeek-V3's GEMMs use and the technical report describes
//   kMmaSync  mma.sync m16n8k32 E4M3 (sm_89+): the warp-level instruction cobench's GEMM kernel
//             uses; the compiler may lower it differently from WGMMA (on sm_100 it is reported to
//             become FP16 HMMAs after a conversion), so its reading can differ
// K-steps chain through the FP32 accumulator registers, starting at zero. The probe is built for
// the project's architectures plus sm_89 and sm_120 (where the toolkit knows them), so it runs on
// FP8 GPUs the GEMM kernels are not built for. Throws cobench::Error without a device or on an
// architecture without the instruction.
#pragma once

#include <string>
#include <vector>

#include "kernels/gemm/cuda/probe_interpret.h"

namespace cobench::gemm::cuda {

enum class ProbeInstruction { kWgmma, kMmaSync };

/// "" when `instruction` can run on the current device with this build; else why not (no device,
/// an architecture without the instruction, or one the probe was not compiled for).
std::string accumulator_probe_unsupported(ProbeInstruction instruction);

/// One FP32 output per case: row 0 of A holds `a`, column 0 of B holds `b`, the rest is zero.
std::vector<float> run_accumulator_probe(const std::vector<ProbeCase>& cases,
                                         ProbeInstruction instruction);

/// Runs every case of accumulator_probe_cases() and interprets the outputs.
ProbeReading probe_tensor_core_accumulator(ProbeInstruction instruction);

}  // namespace cobench::gemm::cuda
