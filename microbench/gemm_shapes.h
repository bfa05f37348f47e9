// SPDX-License-Identifier: Apache-2.0
// GEMM shapes generated from a model architecture (topologies/models/*.yaml): the MLA
// projections, the routed and shared expert FFN (gate and up fused), the dense FFN and the LM
// head, each as N x K with the token count M supplied by the benchmark.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "topologies/model_arch.h"

namespace cobench::bench {

struct GemmShape {
  std::string name;  ///< e.g. "q_b", "expert_up"
  std::int64_t n = 0, k = 0;
};

std::vector<GemmShape> model_gemm_shapes(const topo::ModelArch& m);

/// Training's input-gradient GEMMs, dX = dY W (the forward computes Y = X W^T with W [N, K]): for
/// every shape of model_gemm_shapes but the LM head (a BF16 GEMM in the models cobench times), N
/// the forward's K and K its N, named "<name>_dgrad". `cobench analyze --train` times 1B on them
/// (topologies/training_model.cpp: the forward's FLOPs on the shape (m, k, n)).
std::vector<GemmShape> dgrad_gemm_shapes(const topo::ModelArch& m);

/// The model the GEMM benchmarks take their shapes from: $COBENCH_GEMM_MODEL (a name under
/// topologies/models or a YAML path), else "deepseek-v3".
std::string gemm_model_name();

/// "<base>/shape:<shape>" for DeepSeek-V3 (the names tracked histories know), else
/// "<base>/model:<model>/shape:<shape>".
std::string gemm_benchmark_name(const std::string& base, const std::string& model,
                                const std::string& shape);

}  // namespace cobench::bench
