// SPDX-License-Identifier: Apache-2.0
// The expert-parallel all-to-all bound on decode speed (paper section 2.3.2): every token is
// dispatched to its routed experts plus the shared one and combined back, once per layer and
// micro-batch, so with computation fully overlapped the time per output token is at least
//   TPOT = layers x micro_batches x tokens x experts_per_token x hidden
//          x (dispatch_bytes + combine_bytes) / bandwidth       (+ latency terms)
// The paper uses 32 tokens per device, FP8 dispatch (1 B), BF16 combine (2 B), 9 experts,
// hidden "7K" = 7000, 61 layers, 2 micro-batches and 50 GB/s (400 Gb/s CX7): 14.76 ms.
#pragma once

#include "core/units.h"
#include "topologies/model_arch.h"

namespace cobench::topo {

struct EpDecodeInputs {
  double tokens_per_device = 32;
  double experts_per_token = 9;  ///< routed top-k plus shared
  double hidden = 7168;
  double layers = 61;
  double micro_batches = 2;               ///< dual micro-batch overlap
  double dispatch_bytes_per_element = 1;  ///< FP8
  double combine_bytes_per_element = 2;   ///< BF16
  bool dispatch_scales = false;           ///< add the FP32 scale of every 128 elements (4 B)
  Bandwidth bandwidth{50e9};              ///< per-device all-to-all bandwidth
  Seconds latency_per_all_to_all{0};      ///< added to each of dispatch and combine
};

struct EpDecodeBound {
  Bytes bytes_per_step;     ///< dispatch + combine bytes of one device, one layer, micro-batch
  Seconds comm_per_step;    ///< bytes_per_step / bandwidth + 2 latencies
  Seconds per_layer;        ///< comm_per_step x micro_batches
  Seconds tpot;             ///< per_layer x layers
  double tokens_per_s = 0;  ///< per sequence: 1 / tpot
};

EpDecodeBound ep_decode_bound(const EpDecodeInputs& in);

/// The paper's inputs for a model: its hidden size and layers, top-k + shared experts.
EpDecodeInputs ep_decode_inputs(const ModelArch& m, Bandwidth bandwidth);

}  // namespace cobench::topo
