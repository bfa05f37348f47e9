// SPDX-License-Identifier: Apache-2.0
// `cobench analyze --model M --cluster C`: the bottleneck analyses for any model on any cluster.
// Sections (docs/model.md gives every formula):
//   memory     parameters, KV bytes per token, KV capacity next to the weights
//   compute    training FLOPs per token (exact-causal)
//   inference  the decode time per output token: the EP all-to-all, HBM and compute bounds per
//              layer, which one binds; on a CPU-only node, activated bytes over memory bandwidth
//   network    the cluster's fabric: endpoints, switches, links, cost
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "topologies/cluster.h"
#include "topologies/model_arch.h"
#include "topologies/report.h"

namespace cobench::topo {

struct DecodeSetting {
  double tokens_per_device = 32;  ///< decode batch a device serves
  double context_tokens = 4096;   ///< KV length each token attends to
  double weight_bytes = 1;        ///< FP8 weights
  double kv_bytes = 2;            ///< BF16 cache
  double micro_batches = 2;
  double seq_len_train = 4096;
};

struct Analysis {
  nlohmann::json json;  ///< the stable schema of docs/model.md
  Report report;        ///< the same for text and Markdown
};

Analysis analyze(const ModelArch& m, const ClusterSpec& c, const DecodeSetting& s = {});

}  // namespace cobench::topo
