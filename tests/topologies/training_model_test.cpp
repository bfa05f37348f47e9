// SPDX-License-Identifier: Apache-2.0
// The training step model: F, B and W of a one-layer dense model worked by hand at round peaks,
// the step put together from the pipeline and the optimizer, the all-to-all binding where the
// network is slow, DualPipe's second copy of the weights, and bad settings refused.
#include "topologies/training_model.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <string>

#include "core/config.h"
#include "core/error.h"
#include "tests/test_util.h"
#include "topologies/data_files.h"
#include "topologies/model_params.h"
#include "topologies/scenario.h"
#include "topologies/training_report.h"

namespace {

using namespace cobench::topo;

// One GPU at round peaks: FP8 1000 TFLOPS, BF16 500 TFLOPS, HBM 2 TB/s (no SM count: no
// communication share).
constexpr const char* kOneGpu = R"(cluster:
  name: one GPU
  nodes: 1
  node:
    name: n
    gpus_per_node: 1
    gpu:
      name: Test GPU
      hbm_capacity: 80 GiB
      hbm_bandwidth: 2 TB/s
      peak_flops: {fp8: 1000 TFLOPS, bf16: 500 TFLOPS}
    nics_per_node: 1
    nic_speed: 400 Gb/s
  scale_up: {link: NVLink, domain_gpus: 1, bandwidth_nominal: 200 GB/s,
             bandwidth_achievable: 160 GB/s, latency: 3 us}
  scale_out: {link: InfiniBand, bandwidth_achievable: 40 GB/s, latency_same_leaf: 2.8 us,
              latency_cross_leaf: 3.7 us}
  fabric: {topology: ft2, switch_radix: 64}
)";

// One layer, hidden 1024, 8 heads of 128 (MHA), FFN 4096.
constexpr const char* kTinyModel = R"(model:
  name: tiny
  vocab_size: 32000
  hidden_size: 1024
  num_layers: 1
  attention:
    kind: gqa
    num_heads: 8
    num_kv_heads: 8
    head_dim: 128
  dense_intermediate: 4096
)";

TEST(TrainingModel, OneDenseLayerByHand) {
  const ClusterSpec c = load_cluster(cobench::config::parse_yaml(kOneGpu, "c.yaml"));
  const ModelArch m = load_model_yaml(cobench::config::parse_yaml(kTinyModel, "m.yaml"));
  TrainingSetting s;
  s.pp = 1;
  s.seq_len = 1024;
  s.micro_batch = 1;
  s.global_batch = 4;
  s.schedule = PipelineSchedule::k1F1B;
  const TrainingPrediction p = predict_training(m, c, s, PerfModel::roofline(c));
  // GEMMs of 1024 tokens, all compute-bound at 1000 TFLOPS: QKV 2*1024*3072*1024, out 2*1024^3,
  // gate/up 2*1024*8192*1024, down 2*1024*1024*4096: 2^35 FLOPs for F, again for B (dX) and for
  // W (dW).
  const double gemm_s = 34359738368.0 / 1e15;
  // Attention: 2 * 1024 tokens * 8 heads * (128 + 128) * 512 (causal mean) = 2^31 FLOPs at
  // 500 TFLOPS; its backward 2.5x.
  const double attn_s = 2147483648.0 / 500e12;
  // Element-wise at 2 TB/s: norms and residuals 8 * 1024 * 1024 * 2 B, SwiGLU 3 * 1024 * 4096 *
  // 2 B; the backward twice the bytes, and the RMSNorms (half the first) recomputed.
  const double norms_s = 16777216.0 / 2e12, swiglu_s = 25165824.0 / 2e12;
  // RoPE on Q and K, 1024 tokens x 16 heads x 128 read and written in BF16 (8 MiB), forward and
  // backward; each FP8 GEMM's input quantized in the forward, 2 B read, 1 B and a 4 B scale a
  // 128 written: QKV's, out's and gate/up's 1024 x 1024, down's 1024 x 4096 (7 x 2^20 elements).
  const double rope_s = 8388608.0 / 2e12, quant_s = 7 * 1048576.0 * (3 + 4.0 / 128) / 2e12;
  // The LM head on all 1024 tokens (one stage holds it): 2 * 1024 * 32000 * 1024 FLOPs in BF16
  // for F, dX and dW (compute-bound: its 133 MB read and written take 67 us at 2 TB/s), and the
  // FP32 logits written and read (1024 * 32000 * 8 B) in the forward, twice that backward.
  const double head_gemm_s = 67108864000.0 / 500e12, logits_s = 262144000.0 / 2e12;
  EXPECT_NEAR(p.chunk.heads_f_s, head_gemm_s + logits_s, 1e-12);
  EXPECT_EQ(p.chunk.heads_share, 1);
  EXPECT_NEAR(p.chunk.f_s,
              gemm_s + attn_s + norms_s + swiglu_s + rope_s + quant_s + head_gemm_s + logits_s,
              1e-12);
  EXPECT_NEAR(p.chunk.recompute_s, norms_s / 2, 1e-12);
  // Each FP8 GEMM's output gradient dY quantized into 1x128 tiles for dX (priced as the forward's
  // quantization): QKV's 1024 x 3072, out's 1024 x 1024, gate/up's 1024 x 8192, down's
  // 1024 x 1024: 13 x 2^20 elements.
  const double grad_quant_s = 13 * 1048576.0 * (3 + 4.0 / 128) / 2e12;
  EXPECT_NEAR(p.chunk.b_s,
              gemm_s + 2.5 * attn_s + 2 * (norms_s + swiglu_s) + norms_s / 2 + rope_s +
                  grad_quant_s + head_gemm_s + 2 * logits_s,
              1e-12);
  // W: the dW GEMMs, and each FP8 input X and each dY re-tiled into 128x1 tiles (1 B read + 1 B
  // written an element): X 7 x 2^20 elements (above), dY 13 x 2^20; the head's dW.
  const double transpose_s = 2 * (7 + 13) * 1048576.0 / 2e12;
  EXPECT_NEAR(p.chunk.w_s, gemm_s + transpose_s + head_gemm_s, 1e-12);
  EXPECT_EQ(p.chunk.f_comm_s, 0);
  // One stage, 4 micro-batches, nothing idle: 4 (F + B + W); then the AdamW update of the 2^24
  // weights, 22 B each at 2 TB/s (one GPU: no data-parallel traffic).
  EXPECT_EQ(p.micro_batches, 4);
  EXPECT_NEAR(p.pipeline.time_s, 4 * (p.chunk.f_s + p.chunk.b_s + p.chunk.w_s), 1e-12);
  EXPECT_NEAR(p.bubble_s, 0, 1e-15);
  // The layer's 2^24 weights, the embedding's and the (untied) head's 32000 x 1024 each: the one
  // rank holds the first position and the last.
  const double weights = 16777216.0 + 2 * 32768000.0;
  EXPECT_EQ(p.params_per_gpu, weights);
  EXPECT_NEAR(p.update_s, 22 * weights / 2e12, 1e-15);
  EXPECT_EQ(p.dp_comm_s, 0);
  EXPECT_NEAR(p.step_s, p.pipeline.time_s + p.update_s, 1e-15);
  // BF16 weights and FP32 gradients, FP32 master and BF16 moments: 14 B a weight on one GPU.
  EXPECT_EQ(p.state_bytes_per_gpu, 14 * weights);
  // Kept for the backward: the FP8 inputs of QKV, out and gate/up (1 MiB each; down's input is
  // SwiGLU's recomputed output), Q, K, V and O in BF16 (2 x the 4 MiB of K and V), the norms'
  // BF16 inputs (8 MiB) and SwiGLU's FP8 input (1024 x 8192 B = 8 MiB): 27 MiB; the head's BF16
  // input (2 MiB; its FP32 logits are not kept): 29 MiB, one chunk in flight.
  EXPECT_EQ(p.activation_bytes_per_chunk, 29.0 * (1 << 20));
  EXPECT_EQ(p.activation_bytes_per_gpu, 29.0 * (1 << 20));
  EXPECT_EQ(p.activation_peak_chunks, 1);
  EXPECT_EQ(p.memory_stage, 0);
  // Tokens a day and the causal MFU from the step.
  EXPECT_NEAR(p.tokens_per_day, 4 * 1024 / p.step_s * 86400, 1e-6);
  EXPECT_NEAR(
      p.mfu_causal,
      train_flops_per_token(m, 1024, FlopConvention::kExactCausal) * 4096 / p.step_s / 500e12,
      1e-12);
}

// `nodes` nodes of `gpus` GPUs, each node one scale-up domain, at round peaks: FP8 1000 TFLOPS,
// BF16 500 TFLOPS, HBM 20 TB/s (every operation of the tiny model compute-bound), NVLink 100 GB/s
// nominal (80 achievable) and 1 us a collective, one 40 GB/s NIC a GPU.
ClusterSpec domain_of(int gpus, int nodes = 1) {
  const std::string yaml = fmt::format(R"(cluster:
  name: {0} GPUs
  nodes: {1}
  node:
    name: n
    gpus_per_node: {0}
    gpu:
      name: Test GPU
      hbm_capacity: 80 GiB
      hbm_bandwidth: 20 TB/s
      peak_flops: {{fp8: 1000 TFLOPS, bf16: 500 TFLOPS}}
    nics_per_node: {0}
    nic_speed: 400 Gb/s
  scale_up: {{link: NVLink, domain_gpus: {0}, bandwidth_nominal: 100 GB/s,
             bandwidth_achievable: 80 GB/s, latency: 1 us}}
  scale_out: {{link: InfiniBand, bandwidth_achievable: 40 GB/s, latency_same_leaf: 2.8 us,
              latency_cross_leaf: 3.7 us}}
  fabric: {{topology: ft2, switch_radix: 64}}
)",
                                       gpus, nodes);
  return load_cluster(cobench::config::parse_yaml(yaml, "c.yaml"));
}

TrainingSetting tiny_setting() {
  TrainingSetting s;
  s.pp = 1;
  s.seq_len = 1024;
  s.micro_batch = 1;
  s.global_batch = 4;
  s.schedule = PipelineSchedule::k1F1B;
  return s;
}

TEST(TrainingModel, TensorParallelTwoByHand) {
  const ClusterSpec c = domain_of(2);
  const ModelArch m = load_model_yaml(cobench::config::parse_yaml(kTinyModel, "m.yaml"));
  TrainingSetting s = tiny_setting();
  s.tp = 2;  // the 2 GPUs: DP 1, 4 micro-batches
  const TrainingPrediction p = predict_training(m, c, s, PerfModel::roofline(c));
  EXPECT_EQ(p.dp, 1);
  EXPECT_EQ(p.micro_batches, 4);
  // Each GPU: 4 of 8 heads, 2048 of 4096 FFN columns, all 1024 tokens. GEMMs: QKV
  // 2*1024*1536*1024 (4 + 4 + 4 heads of 128), out 2*1024*1024*512, gate/up 2*1024*4096*1024,
  // down 2*1024*1024*2048 = 2^34 FLOPs at 1000 TFLOPS (half of TP1's 2^35); attention
  // 2*1024*4*256*512 = 2^30 at 500 TFLOPS.
  const double gemm_s = 17179869184.0 / 1e15, attn_s = 1073741824.0 / 500e12;
  // Element-wise at 20 TB/s: the norms and residuals split over the sequence (8*1024*1024*2 B
  // / 2), SwiGLU on 2048 columns (3*1024*2048*2 B).
  const double norms_s = 8388608.0 / 20e12, swiglu_s = 12582912.0 / 20e12;
  // TP traffic: 2 all-gathers + 2 reduce-scatters of the 1024 x 1024 BF16 activations, each
  // sending (2-1)/2 of their 2 MiB over the 100 GB/s link, plus 1 us.
  const double tp_s = 4 * (1048576.0 / 100e9 + 1e-6);
  // RoPE on 4 + 4 heads (1024 x 8 x 128 x 2 B read and written, 4 MiB), forward and backward;
  // the FP8 inputs quantized (3 + 4/128 B an element): QKV's and gate/up's 1024 x 1024, out's
  // 1024 x 512, down's 1024 x 2048: 4.5 x 2^20 elements.
  const double rope_s = 4194304.0 / 20e12, quant_s = 4.5 * 1048576.0 * (3 + 4.0 / 128) / 20e12;
  // The LM head on all 1024 (gathered) tokens and its 16000 of the 32000 vocabulary columns:
  // 2 * 1024 * 16000 * 1024 FLOPs in BF16 for F, dX and dW; the FP32 logits (1024 * 16000 * 8 B)
  // written and read at 20 TB/s, twice that backward.
  const double head_gemm_s = 33554432000.0 / 500e12, logits_s = 131072000.0 / 20e12;
  EXPECT_NEAR(p.chunk.tp_comm_s, tp_s, 1e-12);
  EXPECT_NEAR(
      p.chunk.f_s,
      gemm_s + attn_s + norms_s + swiglu_s + tp_s + rope_s + quant_s + head_gemm_s + logits_s,
      1e-12);
  // Each GEMM's output gradient quantized: QKV's 1024 x 1536, out's and down's 1024 x 1024 (the
  // row-parallel outputs, whole before their reduce-scatter), gate/up's 1024 x 4096: 7.5 x 2^20.
  const double grad_quant_s = 7.5 * 1048576.0 * (3 + 4.0 / 128) / 20e12;
  EXPECT_NEAR(p.chunk.b_s,
              gemm_s + 2.5 * attn_s + 2 * (norms_s + swiglu_s) + norms_s / 2 + tp_s + rope_s +
                  grad_quant_s + head_gemm_s + 2 * logits_s,
              1e-12);
  // W: each FP8 input transposed (2 B an element): QKV's and gate/up's 1024 x 1024 (the tokens
  // all-gathered), out's 1024 x 512, down's 1024 x 2048: 4.5 x 2^20 elements; each dY: 7.5 x
  // 2^20 (above); at 20 TB/s.
  EXPECT_NEAR(p.chunk.w_s, gemm_s + 2 * (4.5 + 7.5) * 1048576.0 / 20e12 + head_gemm_s, 1e-12);
  EXPECT_NEAR(p.pipeline.time_s, 4 * (p.chunk.f_s + p.chunk.b_s + p.chunk.w_s), 1e-12);
  // Half of the 2^24 weights on each GPU and half of the embedding's and head's 32000 x 1024
  // each (vocab-parallel), updated at 22 B each; no DP traffic.
  const double weights = 8388608.0 + 2 * 16384000.0;
  EXPECT_EQ(p.params_per_gpu, weights);
  EXPECT_EQ(p.dp_comm_s, 0);
  EXPECT_NEAR(p.update_s, 22 * weights / 20e12, 1e-15);
  // Kept (Korthikanti et al.: TP with SP halves every activation): QKV's and gate/up's FP8
  // input as their 1/2 sequence shard (0.5 MiB each), out's input (1024 x 512 B), Q and O BF16
  // (2 x 1 MiB) and K and V (2 MiB), the norms' half (4 MiB), SwiGLU's FP8 input (4 MiB), the
  // head's BF16 input shard (1 MiB): 14.5 MiB, half of TP1's 29.
  EXPECT_EQ(p.activation_bytes_per_chunk, 14.5 * (1 << 20));
}

// kTinyModel's attention with a MoE block: 4 routed experts of 512 (top-2), one shared expert
// of 512, one group.
constexpr const char* kTinyMoe = R"(model:
  name: tiny-moe
  vocab_size: 32000
  hidden_size: 1024
  num_layers: 1
  attention:
    kind: gqa
    num_heads: 8
    num_kv_heads: 8
    head_dim: 128
  dense_layers: 0
  dense_intermediate: 4096
  moe:
    routed_experts: 4
    shared_experts: 1
    top_k: 2
    expert_intermediate: 512
    groups: 1
    groups_per_token: 1
)";

TEST(TrainingModel, TensorParallelMoeReducesWholeWeightsOverTheTpGroup) {
  const ClusterSpec c = domain_of(4);
  const ModelArch m = load_model_yaml(cobench::config::parse_yaml(kTinyMoe, "m.yaml"));
  TrainingSetting s = tiny_setting();
  s.tp = 2;  // 4 GPUs: DP 2, EP 2 over the DP ranks of one TP index
  s.ep = 2;
  const TrainingPrediction p = predict_training(m, c, s, PerfModel::roofline(c));
  EXPECT_EQ(p.dp, 2);
  // A GPU's weights: attention split over TP (QKV 1024 x (4 + 4 + 4) x 128 = 1,572,864, out
  // 512 x 1024 = 524,288); the router (1024 x 4) and the shared expert (1024 x 1024 up,
  // 512 x 1024 down) whole; 2 of the 4 routed experts (2 x (1024 x 1024 + 512 x 1024)); the
  // embedding's and head's 32000 x 1024 each, split over TP (vocab-parallel), on the one stage.
  const double split = 1572864.0 + 524288.0 + 2 * 16384000.0;
  const double whole = 4096.0 + 1048576.0 + 524288.0;
  const double routed = 2 * (1048576.0 + 524288.0);
  EXPECT_EQ(p.params_per_gpu, split + whole + routed);
  // The same split weights on the 2 DP ranks, the same router and shared expert on all 4 GPUs,
  // the same routed experts on 2 x 2 / EP 2 = 2: BF16 rings of 2 (n - 1) / n x 2 B a weight,
  // inside the one 4-GPU domain at its 80 GB/s achievable rate, and the AdamW update of the
  // shards (22 B a weight) at 20 TB/s.
  EXPECT_NEAR(p.dp_comm_s,
              (2 * 0.5 * split * 2 + 2 * 0.75 * whole * 2 + 2 * 0.5 * routed * 2) / 80e9, 1e-15);
  EXPECT_NEAR(p.update_s, 22 * (split / 2 + whole / 4 + routed / 2) / 20e12, 1e-15);
}

TEST(TrainingModel, Bf16PrecisionByHand) {
  const ClusterSpec c = load_cluster(cobench::config::parse_yaml(kOneGpu, "c.yaml"));
  const ModelArch m = load_model_yaml(cobench::config::parse_yaml(kTinyModel, "m.yaml"));
  TrainingSetting s = tiny_setting();
  s.precision = TrainingPrecision::kBf16;
  const TrainingPrediction p = predict_training(m, c, s, PerfModel::roofline(c));
  // The same 2^35 GEMM FLOPs a pass at the 500 TFLOPS BF16 peak (each still compute-bound at
  // 2 TB/s: gate/up reads and writes 34 MiB, 17.8 us, against 34.4 us of FLOPs).
  const double gemm_s = 34359738368.0 / 500e12, attn_s = 2147483648.0 / 500e12;
  const double norms_s = 16777216.0 / 2e12, swiglu_s = 25165824.0 / 2e12;
  // RoPE as in FP8 (8 MiB); no activation quantization in BF16.
  const double rope_s = 8388608.0 / 2e12;
  // The LM head as in FP8 training (it runs in BF16 there too): OneDenseLayerByHand.
  const double head_gemm_s = 67108864000.0 / 500e12, logits_s = 262144000.0 / 2e12;
  EXPECT_NEAR(p.chunk.f_s, gemm_s + attn_s + norms_s + swiglu_s + rope_s + head_gemm_s + logits_s,
              1e-12);
  EXPECT_NEAR(p.chunk.w_s, gemm_s + head_gemm_s, 1e-12);
  // Kept in BF16: the three GEMM inputs (2 MiB each), Q, K, V, O (8 MiB), the norms' (8 MiB),
  // SwiGLU's input (1024 x 8192 x 2 B = 16 MiB), the head's input (2 MiB): 40 MiB.
  EXPECT_EQ(p.activation_bytes_per_chunk, 40.0 * (1 << 20));
  EXPECT_EQ(parse_training_precision("bf16"), TrainingPrecision::kBf16);
  EXPECT_EQ(cobench::test::error_of([] { parse_training_precision("fp16"); }),
            "unknown training precision 'fp16': expected fp8 or bf16");
}

TEST(TrainingModel, ContextParallelTwoByHand) {
  const ClusterSpec c = domain_of(2);
  const ModelArch m = load_model_yaml(cobench::config::parse_yaml(kTinyModel, "m.yaml"));
  TrainingSetting s = tiny_setting();
  s.cp = 2;
  const TrainingPrediction p = predict_training(m, c, s, PerfModel::roofline(c));
  EXPECT_EQ(p.dp, 1);
  // 512 of the 1024 tokens a GPU: GEMMs 2^34 FLOPs; attention over half the sequence on average,
  // 2*512*8*256*512 = 2^30 (half of the whole sequence's 2^31).
  const double gemm_s = 17179869184.0 / 1e15, attn_s = 1073741824.0 / 500e12;
  const double norms_s = 8388608.0 / 20e12, swiglu_s = 12582912.0 / 20e12;
  // K/V all-gather: (2-1)/2 of 1024 tokens x 2 x 8 heads x 128 x 2 B = 2 MiB over NVLink + 1 us.
  const double cp_s = 2097152.0 / 100e9 + 1e-6;
  // RoPE on 512 tokens x 16 heads of 128 (4 MiB read and written), forward and backward; the
  // FP8 inputs quantized: 512 x 1024 for QKV, out and gate/up, 512 x 4096 for down (3.5 x 2^20).
  const double rope_s = 4194304.0 / 20e12, quant_s = 3.5 * 1048576.0 * (3 + 4.0 / 128) / 20e12;
  // The LM head on the GPU's 512 tokens: 2 * 512 * 32000 * 1024 FLOPs in BF16 for F, dX and dW;
  // the FP32 logits (512 * 32000 * 8 B) at 20 TB/s, twice that backward.
  const double head_gemm_s = 33554432000.0 / 500e12, logits_s = 131072000.0 / 20e12;
  EXPECT_NEAR(p.chunk.cp_comm_s, cp_s, 1e-12);
  EXPECT_NEAR(
      p.chunk.f_s,
      gemm_s + attn_s + norms_s + swiglu_s + cp_s + rope_s + quant_s + head_gemm_s + logits_s,
      1e-12);
  // The output gradients quantized: 512 x (3072 + 1024 + 8192 + 1024) = 6.5 x 2^20 elements.
  const double grad_quant_s = 6.5 * 1048576.0 * (3 + 4.0 / 128) / 20e12;
  EXPECT_NEAR(p.chunk.b_s,
              gemm_s + 2.5 * attn_s + 2 * (norms_s + swiglu_s) + norms_s / 2 + cp_s + rope_s +
                  grad_quant_s + head_gemm_s + 2 * logits_s,
              1e-12);
  // Both GPUs hold all 2^24 weights of the layer and the embedding's and head's 32000 x 1024
  // each: the gradients reduce-scattered and the weights gathered over the 2 CP ranks,
  // 2 (2-1)/2 x 2 B a weight over NVLink at 80 GB/s; each updates half.
  const double weights = 16777216.0 + 2 * 32768000.0;
  EXPECT_NEAR(p.dp_comm_s, weights * 2 / 80e9, 1e-12);
  EXPECT_NEAR(p.update_s, 22 * weights / 2 / 20e12, 1e-15);
  // The same tokens a step as CP1 on one GPU: the step's MFU counts every GPU.
  EXPECT_NEAR(p.tokens_per_day, 4 * 1024 / p.step_s * 86400, 1e-6);
}

TEST(TrainingModel, InterleavedChunksSplitTheStage) {
  // Llama 3 405B, TP8 PP16 on Meta's 16K cluster: ceil(126 / 16) = 8 layers a stage, v = 4
  // chunks of 2; the stage's weights the same, a chunk's times and activations a quarter.
  const ClusterSpec c = load_cluster_file("meta-h100-roce-16k");
  const ModelArch m = load_model("llama-3.1-405b");
  const PerfModel perf(c, find_published_perf(c));
  TrainingSetting s;
  s.tp = 8, s.pp = 16, s.seq_len = 8192, s.global_batch = 2048;
  s.precision = TrainingPrecision::kBf16;
  s.schedule = PipelineSchedule::k1F1B;
  const TrainingPrediction one = predict_training(m, c, s, perf);
  s.schedule = PipelineSchedule::kInterleaved1F1B;
  s.virtual_stages = 4;
  const TrainingPrediction four = predict_training(m, c, s, perf);
  EXPECT_EQ(one.dp, 128);
  EXPECT_EQ(one.micro_batches, 16);
  EXPECT_EQ(one.chunk.layers, 8);
  EXPECT_EQ(four.chunk.layers, 2);
  EXPECT_NEAR(four.params_per_gpu, one.params_per_gpu, 1e-6 * one.params_per_gpu);
  EXPECT_NEAR(4 * four.chunk.w_s, one.chunk.w_s, 1e-9);
  EXPECT_NEAR(4 * four.activation_bytes_per_chunk, one.activation_bytes_per_chunk, 1);
  // Stage 0 holds all 16 x 4 chunks (micro-batches = PP: every forward warms up first).
  EXPECT_EQ(four.pipeline.peak_activations, 64);
  // The busiest stage's idle time, the schedule's own bubble (a lighter stage of the whole-layer
  // split idles more), shrinks about 4x (p2p and unequal F, B make it inexact).
  auto idle = [](const TrainingPrediction& p) {
    return p.pipeline.time_s -
           *std::max_element(p.pipeline.stage_busy_s.begin(), p.pipeline.stage_busy_s.end());
  };
  EXPECT_LT(idle(four), 0.3 * idle(one));
  EXPECT_LT(four.step_s, one.step_s);
}

// One stage of all of DeepSeek-V3's 62 layers (3 dense, 58 MoE and the MoE MTP module) in v = 2
// chunks: the stage holds every weight either way; the time is the heavier chunk's of the
// whole-layer split, the second holding the LM heads and 29 MoE layers, the first the 3 dense
// layers and the other 30.
TEST(TrainingModel, InterleavedChunksShareTheStagesMoeLayers) {
  const ClusterSpec c = load_cluster_file("deepseek-h800-2048");
  const ModelArch m = load_model("deepseek-v3");
  const PerfModel perf(c, find_published_perf(c));
  TrainingSetting s;
  s.pp = 1, s.global_batch = 2048;
  s.schedule = PipelineSchedule::k1F1B;
  const TrainingPrediction one = predict_training(m, c, s, perf);
  s.schedule = PipelineSchedule::kInterleaved1F1B;
  s.virtual_stages = 2;
  const TrainingPrediction two = predict_training(m, c, s, perf);
  EXPECT_EQ(one.chunk.layers, 62);
  EXPECT_EQ(one.chunk.moe_layers, 59);
  EXPECT_EQ(one.chunk.heads_share, 1);
  EXPECT_EQ(two.chunk.layers, 33);
  EXPECT_EQ(two.chunk.moe_layers, 30);
  EXPECT_EQ(two.chunk.heads_share, 0);
  EXPECT_NEAR(two.params_per_gpu, one.params_per_gpu, 1e-9 * one.params_per_gpu);
  // The heavier chunk: at least half of the stage's work, at most that and one layer more (a
  // whole-layer split of two), a layer here being at most 1/59 of the MoE layers' time.
  auto work = [](const TrainingPrediction& p) {
    return p.chunk.f_compute_s + p.chunk.b_compute_s + p.chunk.w_compute_s;
  };
  EXPECT_GE(work(two), work(one) / 2);
  EXPECT_LE(work(two), work(one) / 2 + work(one) / 59);
}

TEST(TrainingModel, BadParallelismIsRefusedWithTheReason) {
  const ClusterSpec c = load_cluster_file("meta-h100-roce-16k");
  const ModelArch llama = load_model("llama-3.1-405b");
  const PerfModel perf(c, find_published_perf(c));
  TrainingSetting good;
  good.tp = 8, good.pp = 16, good.seq_len = 8192, good.global_batch = 2048;
  good.schedule = PipelineSchedule::k1F1B;
  auto error = [&](TrainingSetting s, const ModelArch& m) {
    return cobench::test::error_of([&] { predict_training(m, c, s, perf); });
  };
  EXPECT_EQ(error(good, llama), "(nothing thrown)");
  TrainingSetting s = good;
  s.tp = 16;
  EXPECT_EQ(error(s, llama),
            "--tp 16 must divide the 8 GPUs of cluster 'Meta H100 x 16384 (RoCE, Llama 3)''s "
            "scale-up domain (its all-gathers and reduce-scatters run there)");
  s = good;
  s.cp = 3;
  EXPECT_EQ(
      error(s, llama),
      "PP 16 x TP 8 x CP 3 = 384 (--pp, --tp, --cp) does not divide the 16384 GPUs (--train-gpus)");
  s = good;
  s.cp = 16, s.seq_len = 1000, s.global_batch = 128;
  EXPECT_EQ(
      error(s, llama),
      "--cp 16 needs the sequence length 1000 (--seq-len) to split into 2 x CP = 32 equal chunks "
      "(load-balanced causal attention)");
  s = good;
  s.schedule = PipelineSchedule::kInterleaved1F1B;
  s.virtual_stages = 3;
  EXPECT_EQ(error(s, llama),
            "--interleave 3 does not divide the 8 layers a stage holds (ceil(126 / PP 16))");
  s.virtual_stages = 2;
  s.global_batch = 128 * 24;  // 24 micro-batches over 16 stages
  EXPECT_NE(error(s, llama).find("interleaved 1F1B needs micro-batches a multiple of the 16"),
            std::string::npos)
      << error(s, llama);
  s = good;
  s.virtual_stages = 2;
  EXPECT_EQ(error(s, llama), "2 virtual stages a stage need the interleaved schedule, not 1F1B");
  // Heads and KV groups that do not split.
  ModelArch odd = load_model_yaml(cobench::config::parse_yaml(kTinyModel, "m.yaml"));
  odd.attention.num_heads = 6;
  s = good;
  s.pp = 1, s.tp = 4, s.seq_len = 1024, s.global_batch = 4096;
  EXPECT_EQ(error(s, odd), "--tp 4 does not divide the 6 attention heads of tiny");
  odd.attention.num_heads = 8;
  odd.attention.num_kv_heads = 2;
  EXPECT_EQ(error(s, odd),
            "--tp 4 does not divide the 2 KV heads of tiny (Megatron-LM splits whole KV groups)");
  // MLA: context parallelism is not modelled.
  const ClusterSpec h800 = load_cluster_file("deepseek-h800-2048");
  TrainingSetting ds;
  ds.cp = 2, ds.global_batch = 7680;
  const std::string e = cobench::test::error_of([&] {
    predict_training(load_model("deepseek-v3"), h800, ds,
                     PerfModel(h800, find_published_perf(h800)));
  });
  EXPECT_NE(e.find("context parallelism is modelled for GQA/MHA attention"), std::string::npos)
      << e;
}

TEST(TrainingModel, DeepSeekV3OnItsClusterTakesTable4sShape) {
  // PP16 DualPipe, EP64, DP128: 120 micro-batches of one 4K sequence a pipeline; the step is the
  // pipeline plus the optimizer, and its parts add up to it. The whole-layer split over the 8
  // rank pairs (StageSplit.* work the rule by hand): 62 layers and the LM heads (about 3.6 MoE
  // layers' work) cannot split evenly. Split for time alone, the pair that paces the pipeline
  // holds 2 dense layers and 7 MoE, more than its 85.9 GB of HBM hold with 17 chunks in flight
  // (DualPipeHoldsTwoCopiesOfTheWeights). Split for time within the memory, the heads' pair
  // (with the embedding) takes the 3 dense layers and 3 MoE ones and paces the pipeline (1.5
  // dense, 1.5 MoE and half of the heads a chunk; it is the first stage's too), the other seven
  // 8 MoE layers each.
  const ClusterSpec c = load_cluster_file("deepseek-h800-2048");
  const PerfModel perf(c, find_published_perf(c));
  const TrainingPrediction p = predict_training(load_model("deepseek-v3"), c, {}, perf);
  EXPECT_EQ(p.dp, 128);
  EXPECT_EQ(p.micro_batches, 120);
  EXPECT_EQ(p.chunk.moe_layers, 1.5);
  EXPECT_EQ(p.chunk.layers, 3);
  EXPECT_EQ(p.chunk.heads_share, 0.5);
  EXPECT_EQ(p.first_stage.moe_layers, 1.5);
  EXPECT_EQ(p.first_stage.layers, 3);
  EXPECT_EQ(p.first_stage.heads_share, 0.5);
  EXPECT_LE(p.state_bytes_per_gpu + p.activation_bytes_per_gpu, p.hbm_bytes);
  // ZeRO-1 ends last on the heads' pair. Its last position's gradients (half of its layers, the
  // head and the MTP projection) are final long before the pipeline ends (direction 1 runs the
  // position last on rank 0, direction 0 on rank 15): their reduce-scatter runs beside the last
  // backwards; the first position's (half of its layers and the embedding, the same less the
  // projection's 2 x 7168 x 7168 weights) and the all-gather of all (half of the rings) after.
  // Each half ring moves 255/256 of 2 B a weight at 40 GB/s (the projection's weights are on the
  // 2 x 128 GPUs holding the pair): the rings less the last position's reduce-scatter are 3/4 of
  // them less half the projection's share. The first position's 3 layers' thirds are final a
  // third and two thirds into its last backward, the pipeline's last W, and go as they are: 2/3
  // of that W overlaps.
  EXPECT_EQ(p.optimizer_stage, 0);
  EXPECT_NEAR(p.dp_comm_s,
              0.75 * p.dp_ring_s - 255.0 / 256 * 102760448.0 / 40e9 - 2.0 / 3 * p.first_stage.w_s,
              1e-9 * p.dp_ring_s);
  EXPECT_EQ(p.pipeline.parameter_copies, 2);
  EXPECT_NEAR(p.phase_f_s + p.phase_b_s + p.phase_w_s + p.phase_fb_s + p.bubble_s,
              p.pipeline.time_s, 1e-9);
  EXPECT_NEAR(p.step_s, p.pipeline.time_s + p.optimizer_s, 1e-12);
  // DualPipe's pair: the longer of its compute on 112 of 132 SMs and its all-to-all.
  EXPECT_NEAR(
      p.chunk.fb_s,
      std::max((p.chunk.f_compute_s + p.chunk.b_compute_s + p.chunk.w_compute_s) * 132 / 112,
               p.chunk.f_comm_s + p.chunk.b_comm_s),
      1e-12);
}

TEST(TrainingModel, ASlowNetworkMakesTheAllToAllBind) {
  ClusterSpec c = load_cluster_file("deepseek-h800-2048");
  const ModelArch m = load_model("deepseek-v3");
  const TrainingPrediction fast = predict_training(m, c, {}, PerfModel(c, find_published_perf(c)));
  EXPECT_STREQ(fast.binding, "compute");
  c.scale_out.bandwidth_achievable.value = 5e9;  // 5 GB/s a NIC instead of 40
  const TrainingPrediction slow = predict_training(m, c, {}, PerfModel(c, find_published_perf(c)));
  EXPECT_STREQ(slow.binding, "ep_all_to_all");
  EXPECT_NEAR(slow.chunk.fb_s, slow.chunk.f_comm_s + slow.chunk.b_comm_s, 1e-12);
  EXPECT_GT(slow.step_s, fast.step_s);
}

TEST(TrainingModel, DualPipeHoldsTwoCopiesOfTheWeights) {
  const ClusterSpec c = load_cluster_file("deepseek-h800-2048");
  const ModelArch m = load_model("deepseek-v3");
  const PerfModel perf(c, find_published_perf(c));
  TrainingSetting s;
  const TrainingPrediction dual = predict_training(m, c, s, perf);
  s.schedule = PipelineSchedule::k1F1B;
  const TrainingPrediction one = predict_training(m, c, s, perf);
  EXPECT_EQ(one.pipeline.parameter_copies, 1);
  // A GPU's weights of a MoE layer under EP64: MLA's q_down 7168 x 1536, q_up 1536 x 128 x 192,
  // kv_down 7168 x 576, kv_up 512 x 128 x 256, out 16384 x 7168 (187,105,280, held by the 128 DP
  // ranks); the router 7168 x 256 and the shared expert 3 x 7168 x 2048 (45,875,200, the same
  // ranks); 4 of the 256 routed experts (176,160,768, on 128 / 64 = 2 GPUs). A dense layer's:
  // the same attention and the FFN 3 x 7168 x 18432. The embedding: 129280 x 7168.
  const double attention = 187105280.0, whole = 45875200.0, routed = 176160768.0;
  const double moe = attention + whole + routed, dense = attention + 396361728.0;
  const double embedding = 926679040.0;
  // 1F1B: the first stage, 3 dense layers, 2 MoE ones and the embedding, needs the most memory.
  EXPECT_EQ(one.memory_stage, 0);
  EXPECT_EQ(one.params_per_gpu, 3 * dense + 2 * moe + embedding);
  // DualPipe: each of ranks 1 and 14 holds the pair of stages 1 and 14 (4 MoE layers each), and
  // each weight is on twice the GPUs. BF16 weights and FP32 gradients (6 B a weight); FP32
  // master and BF16 moments (8 B) of its shard: 1/(2 x 128) of the attention, router and shared
  // expert, 1/(2 x 2) of the routed experts.
  EXPECT_EQ(dual.memory_stage, 1);
  EXPECT_EQ(dual.params_per_gpu, 8 * moe);
  EXPECT_EQ(dual.state_bytes_per_gpu,
            6 * 8 * moe + 8 * 8 * ((attention + whole) / 256 + routed / 4));
  EXPECT_EQ(dual.activation_peak_chunks, 17);  // PP + 1
}

// DualPipe on 2 nodes of 2 GPUs, PP 2 x DP 2, a two-layer tiny model with a vocabulary of 256
// (its heads light enough for one layer a stage): each GPU holds stage s and its mirror 1 - s
// (DualPipe's example_dualpipe.py: modules[rank] and modules[PP - 1 - rank], the two copies'
// gradients summed), so each stage's weights are on 4 GPUs; 1F1B holds one stage on 2.
TEST(TrainingModel, DualPipeReducesBothStagesByHand) {
  const ClusterSpec c = domain_of(2, 2);
  std::string yaml = kTinyModel;
  yaml.replace(yaml.find("num_layers: 1"), 13, "num_layers: 2");
  yaml.replace(yaml.find("vocab_size: 32000"), 17, "vocab_size: 256");
  const ModelArch m = load_model_yaml(cobench::config::parse_yaml(yaml, "m.yaml"));
  TrainingSetting s = tiny_setting();
  s.pp = 2;
  s.global_batch = 8;  // 4 micro-batches a pipeline: DualPipe's 2 x PP
  const TrainingPrediction one = predict_training(m, c, s, PerfModel::roofline(c));
  s.schedule = PipelineSchedule::kDualPipe;
  const TrainingPrediction dual = predict_training(m, c, s, PerfModel::roofline(c));
  // A stage's weights: a layer's 2^24, and the embedding's (on the first) or the head's (on the
  // last) 256 x 1024.
  const double w = 16777216.0 + 262144.0;
  EXPECT_EQ(one.dp, 2);
  EXPECT_EQ(one.params_per_gpu, w);
  EXPECT_EQ(dual.params_per_gpu, 2 * w);
  // The 4 GPUs span both nodes: rings over the 40 GB/s NICs. 1F1B: one ring of 2 (2 (2-1)/2 of
  // the 2 B weights); DualPipe: two rings of 4 (2 (4-1)/4 each).
  EXPECT_NEAR(one.dp_ring_s, 2 * 0.5 * w * 2 / 40e9, 1e-15);
  EXPECT_NEAR(dual.dp_ring_s, 2 * 2 * 0.75 * w * 2 / 40e9, 1e-15);
  // 1F1B: stage 0's one position's gradients are final at its last operation, the pipeline's
  // end: its whole ring after it. DualPipe: a position's reduce-scatter (a quarter of the rings)
  // may start before the end, the all-gather of the updated weights (half) may not.
  EXPECT_NEAR(one.dp_comm_s, one.dp_ring_s, 1e-15);
  EXPECT_LT(dual.dp_comm_s, dual.dp_ring_s);
  EXPECT_GE(dual.dp_comm_s, 0.75 * dual.dp_ring_s - 1e-15);
  // Each GPU updates the same shard, a stage's weights over its 2 (1F1B) or 2 stages' over 4.
  EXPECT_NEAR(one.update_s, 22 * w / 2 / 20e12, 1e-18);
  EXPECT_NEAR(dual.update_s, one.update_s, 1e-18);
  // BF16 weights and FP32 gradients of one or two stages, the FP32 master and BF16 moments
  // (8 B) of the shard.
  EXPECT_EQ(one.state_bytes_per_gpu, 6 * w + 8 * w / 2);
  EXPECT_EQ(dual.state_bytes_per_gpu, 12 * w + 8 * w / 2);
  // The pipeline group (TP x CP x PP = 2 GPUs) fits in a node: activations to the next stage
  // (1024 tokens x 1024 x 2 B) over NVLink at 80 GB/s and its 1 us.
  EXPECT_NEAR(one.chunk.p2p_s, 2097152.0 / 80e9 + 1e-6, 1e-15);
  EXPECT_NEAR(dual.chunk.p2p_s, one.chunk.p2p_s, 1e-18);
}

// OneDenseLayerByHand's model with an MTP module (a dense layer here, after the model's one): its
// pass through the head, and its projection of 1024 tokens from 2 x 1024 to 1024 in FP8, 2 x 1024
// x 1024 x 2048 FLOPs at 1000 TFLOPS (compute-bound: its 6 MiB read and written take 3.1 us at
// 2 TB/s), its 1024 x 2048 input quantized first (3 + 4/128 B an element).
TEST(TrainingModel, AnMtpModuleRunsTheHeadAgainAndItsProjectionByHand) {
  const ClusterSpec c = load_cluster(cobench::config::parse_yaml(kOneGpu, "c.yaml"));
  std::string yaml = kTinyModel;
  yaml.replace(yaml.find("num_layers: 1"), 13, "num_layers: 1\n  mtp_modules: 1");
  const ModelArch m = load_model_yaml(cobench::config::parse_yaml(yaml, "m.yaml"));
  TrainingSetting s;
  s.pp = 1, s.seq_len = 1024, s.micro_batch = 1, s.global_batch = 4;
  s.schedule = PipelineSchedule::k1F1B;
  const TrainingPrediction p = predict_training(m, c, s, PerfModel::roofline(c));
  const double head_gemm_s = 67108864000.0 / 500e12, logits_s = 262144000.0 / 2e12;
  const double proj_s = 4294967296.0 / 1e15, quant_s = 2097152.0 * (3 + 4.0 / 128) / 2e12;
  EXPECT_NEAR(p.chunk.heads_f_s, 2 * (head_gemm_s + logits_s) + proj_s + quant_s, 1e-12);
  EXPECT_EQ(p.chunk.layers, 2);
  // Weights: two layers of 2^24, the embedding and head (32000 x 1024 each), the projection
  // (2048 x 1024). Kept: two layers' 27 MiB, the heads' BF16 inputs (2 x 2 MiB), the projection's
  // FP8 input (2 MiB).
  EXPECT_EQ(p.params_per_gpu, 2 * 16777216.0 + 2 * 32768000.0 + 2097152.0);
  EXPECT_EQ(p.activation_bytes_per_gpu, 60.0 * (1 << 20));
}

// One stage of two tiny layers on 2 GPUs of 2 nodes (DP 2, 1F1B): the rank's weights (2 x 2^24
// and the embedding's and head's 32000 x 1024 each, W in all) reduce in two halves, one a layer,
// the first final halfway through the last backward (B + W of the stage, d), the second at its
// end. Each half's reduce-scatter over the 2 ranks moves (2-1)/2 of its 2 B a weight at 40 GB/s,
// rs = W / 2 / 40e9, longer than d / 2: the links carry the first from d / 2 before the end and
// the second right after it, reduced rs - d / 2 + rs after the end; then the update and the
// all-gather of all W (2 rs).
TEST(TrainingModel, GradientsReduceLayerByLayerThroughTheLastBackwardByHand) {
  const ClusterSpec c = domain_of(1, 2);
  std::string yaml = kTinyModel;
  yaml.replace(yaml.find("num_layers: 1"), 13, "num_layers: 2");
  const ModelArch m = load_model_yaml(cobench::config::parse_yaml(yaml, "m.yaml"));
  TrainingSetting s = tiny_setting();  // PP 1, 4 sequences of 1024 tokens
  const TrainingPrediction p = predict_training(m, c, s, PerfModel::roofline(c));
  EXPECT_EQ(p.dp, 2);
  const double w = 2 * 16777216.0 + 2 * 32768000.0, rs = w / 2 / 40e9;
  const double d = p.chunk.b_s + p.chunk.w_s;
  ASSERT_GT(rs, d / 2);
  EXPECT_NEAR(p.dp_ring_s, 4 * rs, 1e-15);
  EXPECT_NEAR(p.dp_comm_s, 2 * rs - d / 2 + 2 * rs, 1e-12);
  EXPECT_NEAR(p.update_s, 22 * w / 2 / 20e12, 1e-15);
}

// A tied head on the last of 2 stages (2 GPUs of one domain, DP 1, 1F1B): the first stage's
// embedding and the last's copy (256 x 1024 each) have their gradients summed after the backward
// (Megatron-LM's embedding group), 2 ranks over NVLink at 80 GB/s, 2 B a weight, and its 1 us;
// then each stage's AdamW update of its layer and vocabulary (2^24 + 2^18 weights, 22 B each, at
// 20 TB/s), no data-parallel ring. The first stage ends last. Untied, nothing to sum.
TEST(TrainingModel, ATiedHeadSumsTheEmbeddingsGradientsByHand) {
  const ClusterSpec c = domain_of(2);
  std::string yaml = kTinyModel;
  yaml.replace(yaml.find("num_layers: 1"), 13, "num_layers: 2");
  yaml.replace(yaml.find("vocab_size: 32000"), 17, "vocab_size: 256");
  const ModelArch untied = load_model_yaml(cobench::config::parse_yaml(yaml, "m.yaml"));
  yaml.replace(yaml.find("num_layers: 2"), 13, "num_layers: 2\n  tie_embeddings: true");
  const ModelArch tied = load_model_yaml(cobench::config::parse_yaml(yaml, "m.yaml"));
  TrainingSetting s = tiny_setting();
  s.pp = 2;
  const TrainingPrediction p = predict_training(tied, c, s, PerfModel::roofline(c));
  const double sync_s = 262144.0 * 2 / 80e9 + 1e-6;
  const double update_s = 22 * (16777216.0 + 262144.0) / 20e12;
  EXPECT_EQ(p.dp, 1);
  EXPECT_EQ(p.optimizer_stage, 0);
  EXPECT_NEAR(p.embedding_sync_s, sync_s, 1e-15);
  EXPECT_NEAR(p.update_s, update_s, 1e-15);
  EXPECT_NEAR(p.optimizer_s, sync_s + update_s, 1e-12);
  const TrainingPrediction u = predict_training(untied, c, s, PerfModel::roofline(c));
  EXPECT_EQ(u.embedding_sync_s, 0);
  EXPECT_NEAR(u.optimizer_s, update_s, 1e-12);
}

// A review's case: stage 0 (4.5 B weights) ends 1.1 ms before stage 1, and its update began
// before the pipeline's end: opt (35.7 ms) came out shorter than that update (36.8 ms), the
// traffic printed as 0. Every update now waits for every rank's gradients (the global norm) and
// so for the pipeline's end: opt is at least the update, and with no ring the traffic is nothing.
TEST(TrainingModel, TheOptimizersPartsAddUp) {
  const ClusterSpec c = load_cluster_file("h100-ib-256");
  TrainingSetting s;
  s.pp = 2, s.gpus = 2, s.seq_len = 64, s.global_batch = 16;
  s.schedule = PipelineSchedule::kZB1P;
  const TrainingPrediction p =
      predict_training(load_model("qwen3-8b"), c, s, PerfModel(c, find_published_perf(c)));
  // One GPU a stage: no ring; the update (22 B a weight from HBM) after the last stage ends.
  EXPECT_EQ(p.dp_ring_s, 0);
  EXPECT_NEAR(p.dp_comm_s, 0, 1e-15);
  EXPECT_GE(p.optimizer_s, p.update_s);
  EXPECT_GT(p.update_s, 0);
}

TEST(TrainingModel, BadSettingsAreRefusedWithTheReason) {
  const ClusterSpec c = load_cluster_file("deepseek-h800-2048");
  const ModelArch m = load_model("deepseek-v3");
  const PerfModel perf(c, find_published_perf(c));
  auto error = [&](TrainingSetting s) {
    return cobench::test::error_of([&] { predict_training(m, c, s, perf); });
  };
  TrainingSetting s;
  s.pp = 3;
  EXPECT_NE(error(s).find("--pp 3 does not divide the 2048 GPUs (--train-gpus)"), std::string::npos)
      << error(s);
  s = {};
  s.pp = 128;
  EXPECT_NE(error(s).find("--pp 128 exceeds the 62 layers of DeepSeek-V3"), std::string::npos)
      << error(s);
  s = {};
  s.global_batch = 1000;
  EXPECT_NE(error(s).find("the global batch of 1000 sequences (--global-batch) does not split"),
            std::string::npos)
      << error(s);
  s = {};
  s.ep = 48;
  EXPECT_NE(error(s).find("--train-ep 48 must be a whole number dividing DP 128"),
            std::string::npos)
      << error(s);
  s = {};
  s.global_batch = 128 * 20;  // 20 micro-batches: DualPipe needs 2 x PP = 32
  EXPECT_NE(error(s).find("DualPipe needs an even number of micro-batches, at least 2 x PP = 32 "
                          "(half fed from each end); --global-batch 2560 / (DP 128 x "
                          "--micro-batch 1) gives 20"),
            std::string::npos)
      << error(s);
  s = {};
  s.pp = 4, s.ep = 512;  // DP 512: EP divides it, but not the 256 routed experts
  EXPECT_NE(error(s).find("--train-ep 512 must divide the 256 routed experts of DeepSeek-V3"),
            std::string::npos)
      << error(s);
  s = {};
  s.global_batch = 128 * 65536;  // 65,536 micro-batches on 16 stages: 2^20
  s.schedule = PipelineSchedule::k1F1B;
  EXPECT_EQ(error(s), "(nothing thrown)");
  s.global_batch *= 2;
  EXPECT_NE(error(s).find("131072 micro-batches (global batch 16777216 / (DP 128 x micro-batch "
                          "1)) on 16 stages x 1 chunks exceed the 1048576 stage-micro-batches"),
            std::string::npos)
      << error(s);
  s = {};
  s.micro_batch = 0.5;
  EXPECT_NE(error(s).find("micro-batch must be a whole number"), std::string::npos) << error(s);
}

TEST(TrainingModel, ScenarioFilesNameTheBadKey) {
  auto error = [&](const std::string& parallel) {
    const std::string yaml =
        "scenario:\n"
        "  name: x\n"
        "  training:\n"
        "    model: deepseek-v3\n"
        "    cluster: c\n"
        "    seq_len: 4096\n"
        "    batch_sequences: 15360\n"
        "    tokens: 1e12\n"
        "    tokens_per_day: 1e9\n"
        "    step_time: 20 s\n"
        "    parallel: " +
        parallel +
        "\n"
        "    phases: {forward: 1 s, backward_input: 1 s, backward_weight: 1 s,\n"
        "             forward_backward: 1 s, bubble: 1 s, optimizer: 1 s}\n";
    return cobench::test::error_of(
        [&] { load_scenario(cobench::config::parse_yaml(yaml, "s.yaml")); });
  };
  const std::string e1 = error("{pp: 16, ep: 64, micro_batch: 1, schedule: gpipe}");
  EXPECT_NE(e1.find("s.yaml:11:"), std::string::npos) << e1;
  EXPECT_NE(e1.find("expected 1f1b, zb1p, dualpipe or interleaved, got 'gpipe'"), std::string::npos)
      << e1;
  const std::string e2 = error("{pp: 0, ep: 64, micro_batch: 1, schedule: dualpipe}");
  EXPECT_NE(e2.find("key 'scenario.training.parallel.pp'"), std::string::npos) << e2;
  const std::string e3 =
      error("{pp: 16, ep: 64, micro_batch: 1, schedule: dualpipe, precision: fp16}");
  EXPECT_NE(e3.find("s.yaml:11:"), std::string::npos) << e3;
  EXPECT_NE(e3.find("expected fp8 or bf16, got 'fp16'"), std::string::npos) << e3;
  const std::string e4 = error("{pp: 16, ep: 64, micro_batch: 1, schedule: 1f1b, interleave: 2}");
  EXPECT_NE(e4.find("s.yaml:11:"), std::string::npos) << e4;
  EXPECT_NE(e4.find("parallel.interleave"), std::string::npos) << e4;
  EXPECT_NE(e4.find("interleave 2 needs schedule: interleaved, got '1f1b'"), std::string::npos)
      << e4;
  const std::string e5 = error("{pp: 16, ep: 64, micro_batch: 1, schedule: dualpipe, tp: 0}");
  EXPECT_NE(e5.find("key 'scenario.training.parallel.tp'"), std::string::npos) << e5;
}

// Sequences are whole, GPU-hours not negative, and a parallel setting the model refuses is an
// error at the scenario's `parallel` key.
TEST(TrainingModel, ScenarioValuesTheModelRefusesNameTheirKey) {
  // The shipped scenario, one value at a time made bad.
  std::ifstream in(find_data_file("scenarios", "deepseek-v3-paper"));
  const std::string good{std::istreambuf_iterator<char>(in), {}};
  auto load = [](const std::string& yaml) {
    return load_scenario(cobench::config::parse_yaml(yaml, "s.yaml"));
  };
  auto error = [&](const std::string& yaml) {
    return cobench::test::error_of([&] { load(yaml); });
  };
  using cobench::test::replace;
  EXPECT_EQ(error(good), "(nothing thrown)");
  const std::string seq = error(replace(good, "seq_len: 4096", "seq_len: 4096.5"));
  EXPECT_NE(seq.find("s.yaml:9:"), std::string::npos) << seq;
  EXPECT_NE(seq.find("key 'scenario.training.seq_len'"), std::string::npos) << seq;
  const std::string batch =
      error(replace(good, "batch_sequences: 15360", "batch_sequences: 15360.5"));
  EXPECT_NE(batch.find("key 'scenario.training.batch_sequences'"), std::string::npos) << batch;
  const std::string hours = error(replace(good, "other_gpu_hours: 124000", "other_gpu_hours: -5"));
  EXPECT_NE(hours.find("s.yaml:14:"), std::string::npos) << hours;
  EXPECT_NE(hours.find("expected a number of GPU-hours >= 0"), std::string::npos) << hours;

  const ClusterSpec c = load_cluster_file("deepseek-h800-2048");
  const ModelArch m = load_model("deepseek-v3");
  const PerfModel perf(c, find_published_perf(c));
  const Scenario bad = load(replace(good, "pp: 16", "pp: 3"));
  const std::string pp =
      cobench::test::error_of([&] { predict_scenario(bad.training, m, c, perf); });
  EXPECT_NE(pp.find("s.yaml:19:"), std::string::npos) << pp;
  EXPECT_NE(pp.find("key 'scenario.training.parallel': pp 3 does not divide the 2048 GPUs (the "
                    "cluster's GPUs)"),
            std::string::npos)
      << pp;
  EXPECT_EQ(predict_scenario(load(good).training, m, c, perf).micro_batches, 120);
  // An expert-parallel degree for a dense model was ignored silently.
  const std::string dense = cobench::test::error_of(
      [&] { predict_scenario(load(good).training, load_model("qwen3-8b"), c, perf); });
  EXPECT_NE(dense.find("key 'scenario.training.parallel': ep 64 applies to MoE models: Qwen3-8B "
                       "has no routed experts (ep: 1)"),
            std::string::npos)
      << dense;
}

}  // namespace
