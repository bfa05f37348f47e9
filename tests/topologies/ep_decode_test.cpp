// SPDX-License-Identifier: Apache-2.0
// The paper's section 2.3.2 arithmetic and the bound's scaling properties.
#include "topologies/ep_decode.h"

#include <gtest/gtest.h>

#include "topologies/data_files.h"

namespace {

using namespace cobench;
using namespace cobench::topo;

EpDecodeInputs paper(double bandwidth) {
  EpDecodeInputs in;
  in.hidden = 7000;  // the paper's "7K"
  in.bandwidth = Bandwidth(bandwidth);
  return in;
}

TEST(EpDecode, ThePapersNumbers) {
  // (1 B + 2 B) x 32 x 9 x 7000 = 6,048,000 B per step.
  const EpDecodeBound b = ep_decode_bound(paper(50e9));
  EXPECT_DOUBLE_EQ(b.bytes_per_step.value, 6'048'000.0);
  EXPECT_NEAR(b.comm_per_step.value, 120.96e-6, 1e-12);
  EXPECT_NEAR(b.per_layer.value, 241.92e-6, 1e-12);
  EXPECT_NEAR(b.tpot.value, 14.75712e-3, 1e-9);  // 61 x 241.92 us
  EXPECT_NEAR(ep_decode_bound(paper(900e9)).comm_per_step.value, 6.72e-6, 1e-12);
}

TEST(EpDecode, ScalingBandwidthScalesTheBound) {
  for (double x : {0.5, 2.0, 18.0}) {
    EXPECT_NEAR(ep_decode_bound(paper(50e9 * x)).tpot.value,
                ep_decode_bound(paper(50e9)).tpot.value / x, 1e-15);
  }
}

TEST(EpDecode, InputsFromTheModelAndScales) {
  const EpDecodeInputs in = ep_decode_inputs(load_model("deepseek-v3"), Bandwidth(50e9));
  EXPECT_EQ(in.experts_per_token, 9);  // top-8 routed + 1 shared
  EXPECT_EQ(in.hidden, 7168);
  EXPECT_EQ(in.layers, 61);
  EpDecodeInputs scaled = in;
  scaled.dispatch_scales = true;  // 56 blocks of 128 x 4 B more per dispatched token
  EXPECT_DOUBLE_EQ(
      ep_decode_bound(scaled).bytes_per_step.value - ep_decode_bound(in).bytes_per_step.value,
      32.0 * 9 * 56 * 4);
  EpDecodeInputs latent = in;
  latent.latency_per_all_to_all = Seconds(3.7e-6);  // two all-to-alls a step
  EXPECT_NEAR(ep_decode_bound(latent).comm_per_step.value - ep_decode_bound(in).comm_per_step.value,
              7.4e-6, 1e-15);
}

}  // namespace
