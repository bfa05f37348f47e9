// SPDX-License-Identifier: Apache-2.0
#include "topologies/ep_decode.h"

#include <cmath>

#include "core/ep_payload.h"

namespace cobench::topo {

EpDecodeBound ep_decode_bound(const EpDecodeInputs& in) {
  EpDecodeBound b;
  double dispatch = in.dispatch_bytes_per_element * in.hidden;
  if (in.dispatch_scales) dispatch += ep_dispatch_scale_bytes(in.hidden);
  const double combine = in.combine_bytes_per_element * in.hidden;
  b.bytes_per_step = Bytes(in.tokens_per_device * in.experts_per_token * (dispatch + combine));
  b.comm_per_step = b.bytes_per_step / in.bandwidth + in.latency_per_all_to_all * 2.0;
  b.per_layer = b.comm_per_step * in.micro_batches;
  b.tpot = b.per_layer * in.layers;
  b.tokens_per_s = 1.0 / b.tpot.value;
  return b;
}

EpDecodeInputs ep_decode_inputs(const ModelArch& m, Bandwidth bandwidth) {
  EpDecodeInputs in;
  in.hidden = static_cast<double>(m.hidden_size);
  in.layers = static_cast<double>(m.num_layers);
  in.experts_per_token = m.moe ? static_cast<double>(m.moe->top_k + m.moe->shared_experts) : 1.0;
  in.bandwidth = bandwidth;
  return in;
}

}  // namespace cobench::topo
