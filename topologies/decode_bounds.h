// SPDX-License-Identifier: Apache-2.0
// Lower bounds on decode time per output token for a model on a cluster, per layer and
// micro-batch on one device (docs/model.md, "Section 2.3.2"):
//   ep_all_to_all     dispatch + combine bytes over the NIC (EP across nodes) or the scale-up
//                     link (EP inside a node), plus two latencies
//   memory_bandwidth  attention weights, the device's experts and the KV it reads, over HBM
//   compute           expert FLOPs at the FP8 peak, attention at the BF16 peak
// With full overlap the largest binds. On a node without GPUs, activated weights and KV over
// memory bandwidth bound a single sequence. Plain arithmetic: the frontier sweep calls it for
// every configuration.
#pragma once

#include "topologies/cluster.h"
#include "topologies/model_arch.h"
#include "topologies/model_params.h"

namespace cobench::topo {

struct DecodeSetting {
  double tokens_per_device = 32;  ///< decode batch a device serves
  double context_tokens = 4096;   ///< KV length each token attends to
  double weight_bytes = 1;        ///< FP8 weights
  double kv_bytes = 2;            ///< BF16 cache
  double micro_batches = 2;
  double seq_len_train = 4096;
  double train_mfu = 0.3894;  ///< for training throughput on any cluster: the paper's causal MFU
  double ep_degree = 0;       ///< devices the experts spread over; 0: the whole cluster
};

struct DecodeBounds {
  double comm_s = 0;     ///< per layer and micro-batch
  double memory_s = 0;   ///< per layer and micro-batch (CPU node: per token)
  double compute_s = 0;  ///< per layer and micro-batch
  const char* binding = "memory_bandwidth";
  double tpot_s = 0;                 ///< time per output token of one sequence
  double tokens_per_s_per_user = 0;  ///< 1 / tpot
  double tokens_per_s_per_device = 0;
  bool over_nics = false;  ///< the all-to-all crosses nodes
  Bandwidth link;          ///< the all-to-all's bandwidth
};

DecodeBounds decode_bounds(const ModelArch& m, const ParamBreakdown& p, const ClusterSpec& c,
                           const DecodeSetting& s);

}  // namespace cobench::topo
