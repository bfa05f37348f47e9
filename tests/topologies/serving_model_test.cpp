// SPDX-License-Identifier: Apache-2.0
// The serving operation model and its prediction: FLOPs and bytes of each operation worked by
// hand from DeepSeek-V3's dimensions (hidden 7168, 128 heads, q LoRA 1536, KV LoRA 512, nope 128,
// rope 64, v 128, 256 routed experts of 2048, top-8, 3 dense layers of 61, vocabulary 129280),
// the accounting of a step, the links EP traffic takes, redundant experts, the HBM check and
// the prediction against its roofline.
#include "topologies/serving_model.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <set>
#include <string>

#include <cmath>
#include "core/config.h"
#include "core/error.h"
#include "core/results_io.h"
#include "tests/test_util.h"
#include "topologies/analysis.h"
#include "topologies/data_files.h"
#include "topologies/decode_bounds.h"
#include "topologies/economics.h"
#include "topologies/hf_config.h"
#include "topologies/measured.h"
#include "topologies/measured_tables.h"
#include "topologies/model_params.h"
#include "topologies/serving_targets.h"

namespace {

using namespace cobench::topo;

const ModelArch& v3() {
  static const ModelArch m = load_model("deepseek-v3");
  return m;
}

const Op& find(const LayerOps& l, const std::string& name) {
  for (std::size_t i = 0; i < l.size; ++i)
    if (name == l.ops[i].name) return l.ops[i];
  ADD_FAILURE() << "no op " << name << " in " << l.name;
  return l.ops[0];
}

ServingShape decode_shape(double tokens, double context, double ep) {
  ServingShape s;
  s.tokens = tokens;
  s.sequences = tokens;
  s.context = context;
  s.ep = ep;
  s.domain_gpus = 8;
  return s;
}

TEST(ServingOps, MlaDecodeIsPricedInTheAbsorbedForm) {
  // Absorbed: 2 x 128 x (512 + 64 + 512) = 278,528 FLOPs a cached token and layer; the naive
  // form 2 x 128 x (192 + 128) = 81,920 undercounts it 3.4x.
  EXPECT_DOUBLE_EQ(decode_attention_flops(v3(), 1000), 278528.0 * 1000 * 61);
  EXPECT_NEAR(decode_attention_flops(v3(), 1000) / attention_flops_forward(v3(), 1000, false),
              278528.0 / 81920.0, 1e-12);
  const StepOps ops = step_ops(v3(), decode_shape(4, 1000, 8));
  const Op& core = find(ops.moe, "attn.core");
  EXPECT_DOUBLE_EQ(core.flops, 4 * 278528.0 * 1000);
  EXPECT_DOUBLE_EQ(core.bytes, 4 * 1000 * 576 * 2.0);  // the latent + RoPE key, BF16
  EXPECT_NE(std::string(core.form).find("absorbed"), std::string::npos);
  // Prefill runs the naive form over up-projected K and V.
  ServingShape pre = decode_shape(4096, 0, 8);
  pre.prefill = true;
  pre.sequences = 1;
  const StepOps pre_ops = step_ops(v3(), pre);
  const Op& causal = find(pre_ops.moe, "attn.core");
  EXPECT_DOUBLE_EQ(causal.flops, 2 * 4096 * 128 * (192 + 128) * 2048.0);  // mean context 2048
}

TEST(ServingOps, GemmShapesAndBytes) {
  const StepOps ops = step_ops(v3(), decode_shape(32, 4096, 8));
  const Op& q_down = find(ops.moe, "attn.q_down");
  EXPECT_EQ(q_down.m, 32);
  EXPECT_EQ(q_down.n, 1536);
  EXPECT_EQ(q_down.k, 7168);
  EXPECT_DOUBLE_EQ(q_down.flops, 2.0 * 32 * 1536 * 7168);
  // FP8 weights and activations, BF16 output.
  EXPECT_DOUBLE_EQ(q_down.bytes, 1536.0 * 7168 + 32.0 * 7168 + 32.0 * 1536 * 2);
  // 256 experts over 8 GPUs: 32 a GPU, each getting 32 x 8 x 8 / 256 = 8 tokens.
  const Op& up = find(ops.moe, "moe.experts_gate_up");
  EXPECT_EQ(up.groups, 32);
  EXPECT_EQ(up.m, 8);
  EXPECT_EQ(up.n, 4096);
  // The dense layers have a dense FFN of 18432, no router.
  EXPECT_EQ(find(ops.dense, "ffn.gate_up").n, 2 * 18432);
  EXPECT_EQ(ops.dense.count, 3);
  EXPECT_EQ(ops.moe.count, 58);
  // The LM head on every decoded token: 32 x 129280 x 7168.
  EXPECT_DOUBLE_EQ(find(ops.lm_head, "lm_head").flops, 2.0 * 32 * 129280 * 7168);
}

TEST(ServingOps, ElementWiseKernelsByHand) {
  // 32 decode tokens a device, EP8, BF16 cache. An FP8 GEMM's input quantized as its own kernel:
  // 2 B read, 1 B and a 4 B scale a 128 elements written, 3.03125 B an element.
  const double q = 3 + 4.0 / 128;
  const StepOps ops = step_ops(v3(), decode_shape(32, 4096, 8));
  EXPECT_DOUBLE_EQ(find(ops.moe, "attn.in_quant").bytes, 32 * 7168 * q);
  EXPECT_DOUBLE_EQ(find(ops.moe, "attn.q_up_quant").bytes, 32 * 1536 * q);
  EXPECT_DOUBLE_EQ(find(ops.moe, "attn.out_quant").bytes, 32 * 128 * 128 * q);  // h x v_head
  EXPECT_DOUBLE_EQ(find(ops.moe, "moe.shared_in_quant").bytes, 32 * 7168 * q);
  EXPECT_DOUBLE_EQ(find(ops.moe, "moe.shared_down_quant").bytes, 32 * 2048 * q);
  // 32 experts a device of 8 tokens each, 2048 wide.
  EXPECT_DOUBLE_EQ(find(ops.moe, "moe.experts_down_quant").bytes, 32 * 8 * 2048 * q);
  EXPECT_DOUBLE_EQ(find(ops.dense, "ffn.down_quant").bytes, 32 * 18432 * q);
  // The latents' RMSNorms (1536 + 512), RoPE on 128 query heads and the shared key (64 wide),
  // BF16 read and written; the cache append reads 576 BF16 values and writes them BF16.
  EXPECT_DOUBLE_EQ(find(ops.moe, "attn.latent_norms").bytes, 32 * 2048 * 4.0);
  EXPECT_DOUBLE_EQ(find(ops.moe, "attn.rope").bytes, 32 * 129 * 64 * 4.0);
  EXPECT_DOUBLE_EQ(find(ops.moe, "attn.kv_append").bytes, 32 * 576 * 4.0);
  // The gate's top-8 of 256 BF16 scores, 8 weights and 8 ids (4 B each) written.
  EXPECT_DOUBLE_EQ(find(ops.moe, "moe.topk").bytes, 32 * (256 * 2 + 8 * 8.0));
  // Kernels of a MoE layer, 27: attention's 14 (4 GEMMs, 2 absorptions, the core, 3
  // quantizations, the latents' norms, RoPE, the append, norms and residuals) and the FFN's 13
  // (router, top-k, dispatch, the shared expert's 2 quantizations, gate/up, SwiGLU and down, the
  // routed experts' gate/up, SwiGLU, quantization and down, combine).
  EXPECT_EQ(ops.moe.size, 27);
  // A prefill quantizes the latents it up-projects: the 4096 new tokens of one sequence.
  ServingShape pre = decode_shape(4096, 0, 8);
  pre.prefill = true;
  pre.sequences = 1;
  EXPECT_DOUBLE_EQ(find(step_ops(v3(), pre).moe, "attn.kv_up_quant").bytes, 4096 * 512 * q);
}

TEST(ServingOps, DispatchCopiesByLink) {
  // EP144 over 8-GPU domains: of a token's 8 expert copies 8 x 7/144 stay in the domain and
  // 8 x 136/144 cross it; 7392 B each (7168 FP8 + 56 FP32 scales).
  const StepOps ops = step_ops(v3(), decode_shape(10, 4096, 144));
  const Op& d = find(ops.moe, "moe.dispatch");
  EXPECT_NEAR(d.comm_up_bytes, 10 * 8 * 7.0 / 144 * 7392, 1e-6);
  EXPECT_NEAR(d.comm_out_bytes, 10 * 8 * 136.0 / 144 * 7392, 1e-6);
  const Op& c = find(ops.moe, "moe.combine");
  EXPECT_NEAR(c.comm_out_bytes, 10 * 8 * 136.0 / 144 * 14336, 1e-6);
  // One 72-GPU domain: nothing crosses it.
  ServingShape nvl = decode_shape(10, 4096, 72);
  nvl.domain_gpus = 72;
  EXPECT_EQ(find(step_ops(v3(), nvl).moe, "moe.dispatch").comm_out_bytes, 0);
}

TEST(ServingOps, Bf16GemmsQuantizeNothingAndDispatchBf16) {
  // The same 32 tokens with BF16 GEMMs: the 27 kernels less the 6 quantizations (attention's 3,
  // the shared expert's 2, the routed experts' 1); every weight GEMM BF16 with 2 B inputs and
  // 2 B weights; the dispatch 2 x 7168 B a copy instead of 7392.
  ServingShape s = decode_shape(10, 4096, 144);
  s.gemm_precision = OpPrecision::kBf16;
  s.weight_bytes = 2;
  const StepOps ops = step_ops(v3(), s);
  EXPECT_EQ(ops.moe.size, 21);
  for (std::size_t i = 0; i < ops.moe.size; ++i)
    EXPECT_FALSE(std::string(ops.moe.ops[i].name).ends_with("_quant")) << ops.moe.ops[i].name;
  const Op& q_down = find(ops.moe, "attn.q_down");
  EXPECT_EQ(q_down.precision, OpPrecision::kBf16);
  EXPECT_DOUBLE_EQ(q_down.bytes, 1536.0 * 7168 * 2 + 10.0 * 7168 * 2 + 10.0 * 1536 * 2);
  EXPECT_EQ(find(ops.moe, "moe.experts_down").precision, OpPrecision::kBf16);
  const Op& d = find(ops.moe, "moe.dispatch");
  EXPECT_NEAR(d.comm_out_bytes, 10 * 8 * 136.0 / 144 * 14336, 1e-6);
  EXPECT_STREQ(d.form, "BF16, a copy an expert");
  // A BF16 GEMM is timed at the BF16 peak: on the H800 a compute-bound one takes twice the FP8
  // one's datasheet time (989 against 1979 TFLOPS).
  const ClusterSpec h800 = load_cluster_file("deepseek-h800-2048");
  const PerfModel ideal = PerfModel::roofline(h800);
  ServingShape big = decode_shape(8192, 4096, 8);
  const Op fp8 = find(step_ops(v3(), big).dense, "ffn.gate_up");
  big.gemm_precision = OpPrecision::kBf16;
  const Op bf16 = find(step_ops(v3(), big).dense, "ffn.gate_up");
  EXPECT_NEAR(ideal.compute(bf16, true).seconds / ideal.compute(fp8, true).seconds, 1979.0 / 989.0,
              1e-9);
}

TEST(ServingOps, CombineFormatSetsItsBytes) {
  // LogFMT-10 at 7168: 8960 B of 10-bit codes + 56 tiles x 8 B of (min, step) = 9408 B a copy,
  // against BF16's 14336; the values sent are 10 x 8 x 143/144 x 7168 either way (the copies
  // for the device's own experts stay).
  ServingShape s = decode_shape(10, 4096, 144);
  s.combine = cobench::find_ep_wire_format("logfmt10");
  const StepOps ops = step_ops(v3(), s);
  const Op& c = find(ops.moe, "moe.combine");
  EXPECT_NEAR(c.comm_out_bytes, 10 * 8 * 136.0 / 144 * 9408, 1e-6);
  EXPECT_NEAR(c.comm_up_bytes, 10 * 8 * 7.0 / 144 * 9408, 1e-6);
  EXPECT_NEAR(c.comm_values, 10 * 8 * 143.0 / 144 * 7168, 1e-6);
  EXPECT_STREQ(c.form, "LogFMT-10 (10 bits + 8 B a 128)");
  // A smaller combine never slows the step, and the setting's name is checked.
  const ClusterSpec h800 = load_cluster_file("deepseek-h800-2048");
  const PerfModel perf(h800, find_published_perf(h800));
  DecodeSetting d;
  d.ep_degree = 128;
  d.tokens_per_device = 128;
  const double bf16 = predict_decode(v3(), h800, d, perf).step_s;
  d.combine_format = "logfmt10";
  EXPECT_LT(predict_decode(v3(), h800, d, perf).step_s, bf16);
  d.combine_format = "fp4";
  EXPECT_THROW(predict_decode(v3(), h800, d, perf), cobench::Error);
}

TEST(ServingModel, RandomRoutingLoadsTheBusiestDevice) {
  // Blom: z = Phi^-1((n - 0.375) / (n + 0.25)); two devices: Phi^-1(0.72222) = 0.58946, sigma
  // = sqrt(100 x 1/2) = 7.0711: 1 + 0.58946 x 7.0711 / 100 = 1.041681 (scipy.stats.norm.ppf).
  EXPECT_NEAR(expert_load_factor(100, 2), 1.0416808, 1e-6);
  // EP144, 136 tokens a micro-batch x top-8 = 1088 copies a device: z = 2.624976, 1.079304.
  EXPECT_NEAR(expert_load_factor(1088, 144), 1.0793045, 1e-6);
  EXPECT_EQ(expert_load_factor(1088, 1), 1);
  EXPECT_EQ(expert_load_factor(0, 144), 1);
  // The busiest GPU's routed experts and traffic: more time, never less.
  const ClusterSpec h800 = load_cluster_file("deepseek-h800-2048");
  const PerfModel perf(h800, find_published_perf(h800));
  DecodeSetting d;
  d.ep_degree = 128;
  d.tokens_per_device = 128;
  const ServingPrediction balanced = predict_decode(v3(), h800, d, perf, true);
  d.random_routing = true;
  const ServingPrediction random = predict_decode(v3(), h800, d, perf, true);
  EXPECT_GT(random.step_s, balanced.step_s);
  auto op = [](const ServingPrediction& p, const char* name) {
    for (const OpTiming& t : p.ops)
      if (t.layer == "MoE layer" && t.name == name) return t.per_step_s;
    return -1.0;
  };
  // 64 tokens x 8 copies over 128 GPUs: the combine's bytes grow by the factor exactly.
  EXPECT_NEAR(op(random, "moe.combine") / op(balanced, "moe.combine"),
              expert_load_factor(64 * 8, 128), 1e-3);
}

TEST(ServingModel, TwoMicroBatchScheduleByHand) {
  // pre 1, dispatch 2, experts 1, combine 2; micro-batches A and B:
  //   compute: A.pre [0,1]  B.pre [1,2]  A.experts [3,4] (A's dispatch arrives at 3)
  //            B.experts [5,6] (B's dispatch arrives at 5)
  //   link:    A.dispatch [1,3]  B.dispatch [3,5]  A.combine [5,7]  B.combine [7,9]
  LayerStages moe;
  moe.pre_s = 1, moe.dispatch_s = 2, moe.mid_s = 1, moe.combine_s = 2;
  EXPECT_DOUBLE_EQ(list_schedule({moe}, 2), 9);  // full overlap: 2 x max(2, 4) = 8; none: 12
  // A dense layer first (compute only, 2 x 1.5), then the MoE layer starts at 3.
  LayerStages dense;
  dense.pre_s = 1.5;
  EXPECT_DOUBLE_EQ(list_schedule({dense, moe}, 2), 12);
  // One micro-batch: nothing overlaps.
  EXPECT_DOUBLE_EQ(list_schedule({moe}, 1), 6);
  // Two such MoE layers: A's second layer waits for its combine (7), and its dispatch for the
  // link, busy with B's combine until 9:
  //   A.pre [7,8]  A.dispatch [9,11]  B.pre [9,10]  B.dispatch [11,13]  A.experts [11,12]
  //   A.combine [13,15]  B.experts [13,14]  B.combine [15,17]
  moe.count = 2;
  EXPECT_DOUBLE_EQ(list_schedule({moe}, 2), 17);
}

TEST(ServingModel, FiveStageScheduleByHand) {
  // An MoE layer: prepare 1 and core 2 (pre 3), shared experts 1 and routed 2 (mid 3), dispatch
  // and combine 1.5 each. Stages of a micro-batch: S0 prepare, S1 core, S2 send dispatch +
  // shared, S3 wait dispatch + routed + send combine, S4 wait combine. Order: A0 A1 A2 B0 A3
  // B1 A4 B2 B3 B4:
  //   A0 [0,1] A1 [1,3] A2: dispatch [3,4.5], shared [3,4]  B0 [4,5]
  //   A3: routed [5,7], combine [7,8.5]  B1 [7,9]  A4: waits to 8.5 (stream at 9)
  //   B2: dispatch [9,10.5], shared [9,10]  B3: routed [10.5,12.5], combine [12.5,14]  B4: 14
  LayerStages moe;
  moe.pre_s = 3, moe.prepare_s = 1, moe.mid_s = 3, moe.shared_s = 1;
  moe.dispatch_s = 1.5, moe.combine_s = 1.5;
  EXPECT_DOUBLE_EQ(five_stage_schedule({moe}), 14);
  // Two such layers (the second's S0-S4 are A5-A9, B5-B9): A5 [10,11], B3 [11,13] with the
  // combine [13,14.5], A6 [13,15], B4 (14.5), A7: dispatch [15,16.5] shared [15,16], B5
  // [16,17], A8 [17,19] combine [19,20.5], B6 [19,21], A9 (20.5), B7: dispatch [21,22.5]
  // shared [21,22], B8 [22.5,24.5] combine [24.5,26], B9: 26. Full overlap: 2 x 2 x 6 = 24.
  moe.count = 2;
  EXPECT_DOUBLE_EQ(five_stage_schedule({moe}), 26);
  // A layer without traffic is one stage of compute. A dense layer of 1.5 first makes six
  // stages; B starts its dense stage after A's S1:
  //   A.dense [0,1.5] A0 [1.5,2.5] A1 [2.5,4.5] B.dense [4.5,6] A2: dispatch [6,7.5] shared
  //   [6,7]  B0 [7,8]  A3 [8,10] combine [10,11.5]  B1 [10,12]  A4 (11.5)  B2: dispatch
  //   [12,13.5] shared [12,13]  B3 [13.5,15.5] combine [15.5,17]  B4: 17.
  LayerStages dense;
  dense.pre_s = 1.5;
  moe.count = 1;
  EXPECT_DOUBLE_EQ(five_stage_schedule({dense, moe}), 17);
}

TEST(ServingOps, TensorParallelDenseModel) {
  // LLaMA-3.1-405B (hidden 16384, 128 heads, 8 KV heads of 128, FFN 53248, vocabulary 128256,
  // 126 layers) at TP8: a device computes 16 heads and 1 KV head, 1/8 of the FFN and the head,
  // and all-reduces 2 x 7/8 of the t x 16384 BF16 activations twice a layer.
  const ModelArch llama = load_model("llama-3.1-405b");
  ServingShape s = decode_shape(16, 4096, 1);
  s.tp = 8;
  const StepOps ops = step_ops(llama, s);
  EXPECT_EQ(ops.dense.count, 126);
  EXPECT_EQ(find(ops.dense, "attn.qkv").n, (16 + 2 * 1) * 128);
  EXPECT_EQ(find(ops.dense, "attn.out").k, 16 * 128);
  const Op& core = find(ops.dense, "attn.core");
  EXPECT_DOUBLE_EQ(core.flops, 2.0 * 16 * 16 * 256 * 4096);
  EXPECT_DOUBLE_EQ(core.bytes, 16.0 * 4096 * 2 * 1 * 128 * 2);  // one KV head a device
  EXPECT_EQ(find(ops.dense, "ffn.gate_up").n, 2 * 53248 / 8);
  EXPECT_EQ(find(ops.dense, "ffn.down").k, 53248 / 8);
  EXPECT_DOUBLE_EQ(find(ops.dense, "attn.all_reduce").comm_up_bytes, 2 * 7.0 / 8 * 16 * 16384 * 2);
  EXPECT_DOUBLE_EQ(find(ops.dense, "ffn.all_reduce").comm_up_bytes, 2 * 7.0 / 8 * 16 * 16384 * 2);
  EXPECT_EQ(find(ops.lm_head, "lm_head").n, 128256 / 8);
  // A TP group of 8 holds the same 64 tokens: each device is credited 8.
  const ClusterSpec c = load_cluster_file("h200-ib-256");
  DecodeSetting d;
  d.tp = 8;
  d.tokens_per_device = 64;
  const ServingPrediction p = predict_decode(llama, c, d, PerfModel(c, find_published_perf(c)));
  EXPECT_NEAR(p.tokens_per_s_per_device * p.step_s, 64.0 / 8, 1e-9);
  EXPECT_EQ(p.binding, std::string("compute"));
  // Weights: the non-vocabulary parameters / 8 at 1 B, embedding and head (2 x 128256 x 16384)
  // / 8 at 2 B; KV: 64 sequences x 4096 x 516,096 B / 8 KV heads.
  const double vocab = 2.0 * 128256 * 16384;
  EXPECT_NEAR(p.device_bytes,
              (count_params(llama).total() - vocab) / 8 + vocab / 8 * 2 + 64 * 4096 * 516096.0 / 8,
              1);
  d.tp = 3;
  EXPECT_NE(cobench::test::error_of([&] {
              predict_decode(llama, c, d, PerfModel::roofline(c));
            }).find("--tp 3: TP 3 does not divide the 128 attention heads"),
            std::string::npos);
  d.tp = 16;
  EXPECT_NE(cobench::test::error_of([&] {
              predict_decode(llama, c, d, PerfModel::roofline(c));
            }).find("--tp 16: TP 16 spans more than one scale-up domain of 8 GPUs"),
            std::string::npos);
  // Tokens a device that do not split into micro-batches of whole sequences name both options.
  d.tp = 8;
  d.micro_batches = 2;
  d.tokens_per_device = 63;
  EXPECT_EQ(cobench::test::error_of([&] { predict_decode(llama, c, d, PerfModel::roofline(c)); }),
            "--tokens-per-device 63 does not split into --micro-batches 2 of whole sequences of 1 "
            "query token(s) each (1 + --mtp-depth): give a multiple of 2");
}

TEST(ServingOps, TensorParallelMoeHoldsWhatItRunsWhole) {
  // DeepSeek-V3 at TP 8 and EP 32, 64 tokens in the TP group: attention splits its 128 heads
  // (16 a device) over all 64 tokens; the MoE block runs on each device's 64 / 8 = 8 tokens
  // with the router (256 x 7168) and the shared expert (2 x 2048 x 7168 up, 7168 x 2048 down)
  // whole, and 256 / 32 = 8 routed experts a device.
  const ModelArch m = load_model("deepseek-v3");
  ServingShape s = decode_shape(64, 4096, 32);
  s.tp = 8;
  s.mtp_modules = 0;
  const StepOps ops = step_ops(m, s);
  EXPECT_EQ(find(ops.moe, "attn.q_up").n, 16 * (128 + 64));
  EXPECT_EQ(find(ops.moe, "attn.q_up").m, 64);
  EXPECT_EQ(find(ops.moe, "moe.router").m, 8);
  EXPECT_EQ(find(ops.moe, "moe.router").n, 256);
  EXPECT_EQ(find(ops.moe, "moe.shared_gate_up").m, 8);
  EXPECT_EQ(find(ops.moe, "moe.shared_gate_up").n, 2 * 2048);
  EXPECT_EQ(find(ops.moe, "moe.shared_down").k, 2048);
  EXPECT_EQ(find(ops.moe, "moe.experts_gate_up").groups, 8);
  // So a device holds them whole: per MoE layer 3 x 7168 x 2048 shared and 256 x 7168 router
  // weights (and 256 biases), 58 MoE layers; 8 slots x 3 x 7168 x 2048 routed weights a layer;
  // attention, norms and the 3 dense FFNs (3 x 3 x 7168 x 18432) split 8 ways (count_params,
  // checked against the paper's 671 B in paper_report_test); embedding and head (2 x 129280 x 7168)
  // / 8 at 2 B. FP8 weights: 1 B a parameter.
  const ParamBreakdown p = count_params(m);
  EXPECT_DOUBLE_EQ(p.shared_experts, 58.0 * 3 * 7168 * 2048);
  EXPECT_DOUBLE_EQ(p.router, 58.0 * 256 * (7168 + 1));  // with the correction bias
  EXPECT_DOUBLE_EQ(p.dense_ffn, 3.0 * 3 * 7168 * 18432);
  const double split = (p.attention + p.norms + 3.0 * 3 * 7168 * 18432) / 8;
  const double whole = 58.0 * 3 * 7168 * 2048 + 58.0 * 256 * (7168 + 1);
  const double routed = 58.0 * 8 * 3 * 7168 * 2048;
  const double vocab = 2.0 * 129280 * 7168 / 8 * 2;
  EXPECT_NEAR(device_weight_bytes(m, s), split + whole + routed + vocab, 1);
}

TEST(ServingOps, PrefillSendsOneCopyANodeItsRoutingCanReach) {
  // DeepSeek-V3 routes a token to 4 of 8 expert groups. EP32 in 8-GPU nodes: 4 nodes, each
  // holding 2 groups, all reachable: 4 (1 - (3/4)^8) = 3.5995 nodes, 3/4 of them remote; inside
  // each node a copy is forwarded to 7/8 of the experts over NVLink.
  ServingShape s = decode_shape(100, 0, 32);
  s.prefill = true;
  s.node_dedup = true;
  RouteCopies c = route_copies(v3(), s);
  EXPECT_NEAR(c.scale_out, 4 * (1 - std::pow(0.75, 8)) * 3 / 4, 1e-12);
  EXPECT_NEAR(c.scale_up, 8 * 7.0 / 8, 1e-12);
  // EP144: 18 nodes, a group spans 18/8 of them, 4 groups reach 9: 9 (1 - (8/9)^8) nodes.
  s.ep = 144;
  c = route_copies(v3(), s);
  EXPECT_NEAR(c.scale_out, 9 * (1 - std::pow(8.0 / 9, 8)) * 17 / 18, 1e-12);
  // The dispatch of 100 tokens: those copies of 7392 B.
  EXPECT_NEAR(find(step_ops(v3(), s).moe, "moe.dispatch").comm_out_bytes, 100 * c.scale_out * 7392,
              1e-6);
}

TEST(ServingOps, PrefillReadsThePrefixAndItsOwnTokens) {
  // 2 sequences of 1000 new tokens (500 a micro-batch each) after a cached prefix of 3000: the
  // naive form up-projects 2 x 3000 + 2000 latents and attends over 3000 + 1000/2 on average.
  ServingShape s = decode_shape(2000, 3000, 8);
  s.sequences = 2;
  s.prefill = true;
  const StepOps ops = step_ops(v3(), s);
  EXPECT_EQ(find(ops.moe, "attn.kv_up").m, 2 * 3000 + 2000);
  EXPECT_EQ(find(ops.moe, "attn.kv_up").n, 128 * (128 + 128));
  const Op& core = find(ops.moe, "attn.core");
  EXPECT_DOUBLE_EQ(core.flops, 2.0 * 2000 * 128 * (128 + 64 + 128) * 3500);
  EXPECT_DOUBLE_EQ(core.bytes, 8000.0 * 128 * (128 + 64 + 128) * 2);
  // The head on each sequence's last position only.
  EXPECT_EQ(find(ops.lm_head, "lm_head").m, 2);
}

TEST(ServingModel, TokensChargedAreTokensCredited) {
  // 64 tokens a device in 2 micro-batches of 32: each layer is charged 2 x 32 tokens, and the
  // device is credited 64 tokens a step.
  const ClusterSpec c = load_cluster_file("deepseek-h800-2048");
  DecodeSetting s;
  s.tokens_per_device = 64;
  s.micro_batches = 2;
  const ServingPrediction p = predict_decode(v3(), c, s, PerfModel::roofline(c));
  EXPECT_NEAR(p.tokens_per_s_per_device * p.step_s, 64, 1e-9);
  EXPECT_NEAR(p.tokens_per_s_per_user * p.step_s, 1, 1e-12);
  // The roofline's EP bound for one micro-batch of 32 tokens over the NIC at 50 GB/s: dispatch
  // 32 x 8 x 2040/2048 x 7392 B and combine the same at 14336 B, plus 2 x 3.7 us.
  const DecodeBounds b = decode_bounds(v3(), count_params(v3()), c, s);
  const double copies = 32 * 8 * 2040.0 / 2048;
  EXPECT_NEAR(b.comm_s, copies * (7392 + 14336) / 50e9 + 2 * 3.7e-6, 1e-12);
  EXPECT_NEAR(b.tokens_per_s_per_device * b.tpot_s, 64, 1e-9);
}

TEST(ServingModel, MtpCreditsAcceptedTokens) {
  const ClusterSpec c = load_cluster_file("deepseek-h800-2048");
  DecodeSetting s;
  s.tokens_per_device = 128;  // 64 sequences x (1 + 1 draft)
  s.mtp_depth = 1;
  s.mtp_acceptance = 0.85;
  const PerfModel perf(c, find_published_perf(c));
  const ServingPrediction p = predict_decode(v3(), c, s, perf);
  EXPECT_EQ(p.sequences_per_device, 64);
  EXPECT_NEAR(p.tokens_per_s_per_user * p.step_s, 1.85, 1e-12);
  EXPECT_NEAR(p.tokens_per_s_per_device * p.step_s, 64 * 1.85, 1e-9);
}

TEST(ServingModel, Nvl72TrafficStaysOnNvlink) {
  const ClusterSpec c = load_cluster_file("gb200-nvl72");
  DecodeSetting s;
  s.ep_degree = 72;
  s.redundant_experts = 32;  // 288 slots, 4 a GPU
  const DecodeBounds b = decode_bounds(v3(), count_params(v3()), c, s);
  EXPECT_FALSE(b.over_nics);
  EXPECT_EQ(b.link.value, 900e9);
  // 32 tokens x 8 x 71/72 copies of 7392 + 14336 B at 900 GB/s, plus 2 x 3.33 us.
  EXPECT_NEAR(b.comm_s, 32 * 8 * 71.0 / 72 * (7392 + 14336) / 900e9 + 2 * 3.33e-6, 1e-12);
  // The prediction's comm is at the achievable 720 GB/s.
  const ServingPrediction p =
      predict_decode(v3(), c, s, PerfModel(c, find_published_perf(c)), /*detail=*/true);
  for (const OpTiming& t : p.ops) {
    if (t.name == "moe.dispatch") {
      EXPECT_NEAR(t.per_step_s, 58 * 2 * (32 * 8 * 71.0 / 72 * 7392 / 720e9 + 3.33e-6), 1e-12);
    }
  }
}

TEST(ServingModel, RedundantExpertsMakeProductionDegreesValid) {
  const ClusterSpec c = load_cluster_file("deepseek-h800-2048");
  EXPECT_EQ(expert_slots(v3(), c, 144, 32), 288);
  EXPECT_EQ(expert_slots(v3(), c, 48, 32), 288);
  EXPECT_EQ(expert_slots(v3(), c, 320, 0), 320);  // one a GPU, 64 copies (the report's EP320)
  EXPECT_EQ(expert_slots(v3(), c, 32, 0), 256);
  const std::string e = cobench::test::error_of([&] { expert_slots(v3(), c, 144, 0); });
  EXPECT_NE(e.find("256 routed + 0 redundant experts do not divide evenly among 144 GPUs"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("--redundant-experts"), std::string::npos);
  DecodeSetting s;
  s.ep_degree = 144;
  s.redundant_experts = 32;
  EXPECT_NO_THROW(analyze(v3(), c, s));
  s.redundant_experts = 0;
  EXPECT_THROW(analyze(v3(), c, s), cobench::Error);
}

TEST(ServingModel, AchievableBandwidthDrivesThePrediction) {
  // No published EP table for the H200 cluster: the dispatch is the cluster file's achievable
  // NIC bandwidth, so a quarter of it takes four times as long (latency aside).
  ClusterSpec c = load_cluster_file("h200-ib-256");
  DecodeSetting s;
  s.ep_degree = 64;
  auto dispatch = [&](const ClusterSpec& cl) {
    for (const OpTiming& t :
         predict_decode(v3(), cl, s, PerfModel(cl, find_published_perf(cl)), true).ops)
      if (t.name == "moe.dispatch") return t.per_step_s;
    return 0.0;
  };
  const double latency = 58 * 2 * c.scale_out.latency_cross_leaf.value;
  const double full = dispatch(c) - latency;
  c.scale_out.bandwidth_achievable = c.scale_out.bandwidth_achievable / 4.0;
  EXPECT_NEAR(dispatch(c) - latency, 4 * full, 1e-12);
}

TEST(ServingModel, DeploymentsThatDoNotFitAreRefused) {
  // EP8 on H200 with 256 sequences of 131072 tokens: 256 x 131072 x 70272 B = 2.36 TB of KV.
  const ClusterSpec c = load_cluster_file("h200-ib-256");
  DecodeSetting s;
  s.ep_degree = 8;
  s.tokens_per_device = 256;
  s.context_tokens = 131072;
  const ServingPrediction p = predict_decode(v3(), c, s, PerfModel(c, find_published_perf(c)));
  EXPECT_FALSE(p.feasible);
  EXPECT_GT(p.device_bytes, 256 * 131072 * 70272.0);
  const Analysis a = analyze(v3(), c, s);
  EXPECT_FALSE(a.json["inference"]["feasible"].get<bool>());
  EXPECT_FALSE(a.json["inference"].contains("prediction"));
  EXPECT_FALSE(a.json.contains("economics"));
}

TEST(ServingModel, APromptWhoseKvDoesNotFitGetsNoPrefillPrediction) {
  // A 2^20-token prompt prefilled 16384 new tokens a step: the device holds that one prompt's
  // KV, 2^20 x 70,272 B (61 layers x 576 x 2 B of latent) = 73.7 GB, beside EP32's weights; the
  // chunk is 1/64 of the prompt, which must not count as 1/64 of its KV.
  const ClusterSpec c = load_cluster_file("deepseek-h800-2048");
  const PerfModel perf(c, find_published_perf(c));
  DecodeSetting s;
  s.ep_degree = 32;
  s.prefill_tokens_per_device = 16384;
  s.prompt_tokens = 1 << 20;
  const ServingPrediction p = predict_prefill(v3(), c, s, perf);
  EXPECT_GT(p.device_bytes, (1 << 20) * 70272.0);
  EXPECT_FALSE(p.feasible);
  const Analysis a = analyze(v3(), c, s);
  EXPECT_FALSE(a.json["inference"]["prefill_feasible"].get<bool>());
  EXPECT_FALSE(a.json["inference"].contains("prefill"));
  ASSERT_TRUE(a.json.contains("economics"));  // decode (context 4096) still fits and is priced
  EXPECT_FALSE(a.json["economics"].contains("prefill_usd_per_million_input"));
  EXPECT_FALSE(a.json["economics"].contains("prefill_bound_tokens_per_s_per_gpu"));
  // A 4096-token prompt fits (four prompts a chunk) and is predicted.
  s.prompt_tokens = 4096;
  EXPECT_TRUE(predict_prefill(v3(), c, s, perf).feasible);
}

TEST(ServingModel, PredictionNeverBeatsTheRoofline) {
  for (const char* name : {"deepseek-h800-2048", "h200-ib-256", "gb200-nvl72", "b200-ib-256"}) {
    const ClusterSpec c = load_cluster_file(name);
    const PerfModel perf(c, find_published_perf(c));
    const PerfModel ideal = PerfModel::roofline(c);
    for (double ep : {8.0, 16.0, 64.0, 72.0, 256.0}) {
      if (ep > static_cast<double>(c.gpus()) || !expert_slots_fit(v3(), ep, 0)) continue;
      for (double tokens : {2.0, 8.0, 64.0, 256.0, 1024.0}) {
        for (double context : {0.0, 1024.0, 32768.0}) {
          for (Schedule sched : {Schedule::kSequential, Schedule::kTwoMicroBatch,
                                 Schedule::kFullOverlap, Schedule::kFiveStage}) {
            DecodeSetting s;
            s.ep_degree = ep;
            s.tokens_per_device = tokens;
            s.context_tokens = context;
            s.schedule = sched;
            const double pred = predict_decode(v3(), c, s, perf).step_s;
            const double bound = predict_decode(v3(), c, s, ideal).step_s;
            EXPECT_GE(pred, bound * (1 - 1e-12)) << name << " ep " << ep << " tokens " << tokens;
            s.cache_hit = 0.5;
            s.prompt_tokens = 4096;
            EXPECT_GE(predict_prefill(v3(), c, s, perf).step_s,
                      predict_prefill(v3(), c, s, ideal).step_s * (1 - 1e-12));
          }
        }
      }
    }
  }
}

TEST(ServingModel, PredictionNeverBeatsTheRooflineWithMtpRedundancyAndTables) {
  const std::string kernels = std::string(COBENCH_TEST_DATA_DIR) + "/measured_h800_kernels.json";
  const MeasuredTables tables = measured_tables(cobench::results::read(kernels), kernels);
  for (const char* name : {"deepseek-h800-2048", "gb200-nvl72"}) {
    const ClusterSpec c = load_cluster_file(name);
    PerfModel perf(c, find_published_perf(c));
    if (std::string(name) == "deepseek-h800-2048") perf.use_measured(tables);
    const PerfModel ideal = PerfModel::roofline(c);
    for (double ep : {48.0, 72.0, 144.0}) {
      if (ep > static_cast<double>(c.gpus())) continue;
      for (double mb : {1.0, 2.0, 4.0}) {
        for (double mtp : {0.0, 1.0, 2.0}) {
          DecodeSetting s;
          s.ep_degree = ep;
          s.redundant_experts = 32;
          s.micro_batches = mb;
          s.mtp_depth = mtp;
          s.context_tokens = 4096;
          for (double seqs : {1.0, 16.0, 64.0}) {
            s.tokens_per_device = seqs * decode_token_unit(s);
            const ServingPrediction p = predict_decode(v3(), c, s, perf);
            EXPECT_GE(p.step_s, predict_decode(v3(), c, s, ideal).step_s * (1 - 1e-12))
                << name << " ep " << ep << " mb " << mb << " mtp " << mtp << " seqs " << seqs;
            EXPECT_NEAR(p.sequences_per_device, seqs * mb, 1e-9);
          }
          s.prefill_ep = ep;
          s.cache_hit = 0.5;
          EXPECT_GE(predict_prefill(v3(), c, s, perf).step_s,
                    predict_prefill(v3(), c, s, ideal).step_s * (1 - 1e-12));
        }
      }
    }
  }
}

// A measured GEMM faster than the datasheet's FP8 peak (here 8 PFLOP/s against the H800's
// 1.979) raises the peak for the roofline too: the prediction still does not beat it, and the
// inputs say so.
TEST(ServingModel, AMeasuredGemmAboveThePeakRaisesTheRoofline) {
  const ClusterSpec c = load_cluster_file("deepseek-h800-2048");
  MeasuredTables tables;
  tables.gemm_fp8 = {GemmPoint{4096, 7168, 16384, 1, 8e15}};
  tables.gemm_source = "fast.json";
  const ModelArch m = load_model("qwen3-8b");
  DecodeSetting s;
  s.ep_degree = 1;
  s.micro_batches = 1;
  s.tokens_per_device = 4096;
  s.context_tokens = 1;
  const Analysis a = analyze(m, c, s, nullptr, &tables);
  const auto& inf = a.json["inference"];
  EXPECT_LE(inf["prediction"]["tokens_per_s_per_device"].get<double>(),
            inf["bound"]["tokens_per_s_per_device"].get<double>());
  EXPECT_LE(a.json["economics"]["prefill_tokens_per_s_per_gpu"].get<double>(),
            a.json["economics"]["prefill_bound_tokens_per_s_per_gpu"].get<double>());
  ASSERT_EQ(a.json["inputs"].size(), 1u);
  EXPECT_EQ(a.json["inputs"][0]["input"], "gpu.peak_flops.fp8");
  EXPECT_EQ(a.json["inputs"][0]["datasheet"], 1979e12);
  EXPECT_EQ(a.json["inputs"][0]["measured"], 8e15);
  // A measured square's peak in the inputs is raised in place, not listed twice.
  std::vector<InputComparison> changed{{"gpu.peak_flops.fp8", 1979e12, 2.5e15, "square.json"}};
  ClusterSpec raised = c;
  raised.node.gpu->peak_fp8 = cobench::FlopRate(2.5e15);
  raise_fp8_peak(raised, tables, changed);
  ASSERT_EQ(changed.size(), 1u);
  EXPECT_EQ(changed[0].measured, 8e15);
  EXPECT_EQ(raised.node.gpu->peak_fp8->value, 8e15);
  // A table below the peak changes nothing.
  tables.gemm_fp8[0].flops_per_s = 1e15;
  raise_fp8_peak(raised, tables, changed);
  EXPECT_EQ(raised.node.gpu->peak_fp8->value, 8e15);
}

// A prefill that sends nothing (EP 1) gives DeepEP no SMs: overlapped or not, the same step on
// all of them. With EP 8 the overlapped compute runs on 112 of the H800's 132 SMs.
TEST(ServingModel, PrefillWithoutTrafficComputesOnEverySm) {
  const ClusterSpec c = load_cluster_file("deepseek-h800-2048");
  const PerfModel perf(c, find_published_perf(c));
  const ModelArch m = load_model("qwen3-30b-a3b");
  DecodeSetting s;
  s.ep_degree = 1;
  const ServingPrediction overlap = predict_prefill(m, c, s, perf);
  s.schedule = Schedule::kSequential;
  const ServingPrediction sequential = predict_prefill(m, c, s, perf);
  EXPECT_EQ(overlap.comm_s, 0);
  EXPECT_EQ(overlap.compute_sm_share, 1);
  EXPECT_DOUBLE_EQ(overlap.step_s, sequential.step_s);
  s.schedule = Schedule::kTwoMicroBatch;
  s.ep_degree = 8;
  const ServingPrediction ep8 = predict_prefill(m, c, s, perf);
  EXPECT_GT(ep8.comm_s, 0);
  EXPECT_DOUBLE_EQ(ep8.compute_sm_share, 112.0 / 132);
}

// The coarse frontier of `cobench analyze` thins the EP degrees that can run, not all whole-node
// degrees: with 256 routed + 32 redundant experts on 8-GPU nodes those are 8, 16, 24, 32, 48, 72,
// 96, 144 and 288 (thinning first had left 8 to 48). Every point is one of them, the fastest are
// beyond 48, and the setting's own configuration is dominated by a frontier point (faster or as
// fast, and no dearer): a frontier is never beaten by the deployment it is shown beside.
TEST(ServingModel, CoarseFrontierKeepsEveryDegreeThatSplitsTheSlots) {
  const ClusterSpec c = load_cluster_file("deepseek-h800-2048");
  const PerfModel perf(c, find_published_perf(c));
  DecodeSetting s;
  s.ep_degree = 144;
  s.redundant_experts = 32;
  s.tokens_per_device = 2;
  const Frontier f = cost_frontier(v3(), c, s, 256, &perf, /*coarse=*/true);
  ASSERT_FALSE(f.points.empty());
  const std::set<double> runnable{8, 16, 24, 32, 48, 72, 96, 144, 288};
  double fastest_ep = 0;
  for (const FrontierPoint& pt : f.points) {
    EXPECT_TRUE(runnable.count(pt.ep_degree)) << pt.ep_degree;
    if (pt.tokens_per_s_per_user == f.points.front().tokens_per_s_per_user)
      fastest_ep = pt.ep_degree;
  }
  EXPECT_GT(fastest_ep, 48);
  for (std::size_t i = 1; i < f.points.size(); ++i) {
    EXPECT_LE(f.points[i].tokens_per_s_per_user, f.points[i - 1].tokens_per_s_per_user);
    EXPECT_LT(f.points[i].usd_per_million_output, f.points[i - 1].usd_per_million_output);
  }
  const ServingPrediction own = predict_decode(v3(), c, s, perf);
  const double own_usd = usd_per_million_tokens(*c.gpu_hour_usd, own.tokens_per_s_per_device);
  bool dominated = false;
  for (const FrontierPoint& pt : f.points)
    dominated = dominated || (pt.tokens_per_s_per_user >= own.tokens_per_s_per_user &&
                              pt.usd_per_million_output <= own_usd * (1 + 1e-12));
  EXPECT_TRUE(dominated) << own.tokens_per_s_per_user << " tok/s, $" << own_usd;
}

// Draft tokens need the model's MTP module: Qwen3-8B has none, DeepSeek-V3 one.
TEST(ServingModel, MtpNeedsTheModelsModule) {
  const ClusterSpec c = load_cluster_file("h20-8");
  const PerfModel perf(c, find_published_perf(c));
  DecodeSetting s;
  s.ep_degree = 1;
  s.micro_batches = 1;
  s.mtp_depth = 1;
  s.tokens_per_device = 128;
  EXPECT_EQ(cobench::test::error_of([&] { predict_decode(load_model("qwen3-8b"), c, s, perf); }),
            "--mtp-depth 1: Qwen3-8B has no multi-token-prediction module (mtp_modules: 0 in its "
            "model file)");
  const ClusterSpec h800 = load_cluster_file("deepseek-h800-2048");
  s.ep_degree = 8;
  EXPECT_GT(predict_decode(v3(), h800, s, PerfModel(h800, find_published_perf(h800)))
                .tokens_per_s_per_device,
            0);
}

// A prefill EP degree that does not split the slots is named by its own option.
TEST(ServingModel, PrefillEpErrorsNameTheirOption) {
  const ClusterSpec c = load_cluster_file("deepseek-h800-2048");
  const PerfModel perf(c, find_published_perf(c));
  DecodeSetting s;
  s.ep_degree = 144;
  s.redundant_experts = 32;
  s.prefill_ep = 7;
  const std::string e = cobench::test::error_of([&] { predict_prefill(v3(), c, s, perf); });
  EXPECT_NE(e.find("among 7 GPUs (give --prefill-ep and --redundant-experts"), std::string::npos)
      << e;
  s.prefill_ep = 0;
  s.ep_degree = 4096;
  EXPECT_EQ(cobench::test::error_of([&] { predict_decode(v3(), c, s, perf); }),
            "--ep: EP degree 4096 exceeds the cluster's 2048 GPUs");
}

TEST(ServingModel, TensorParallelPredictionNeverBeatsTheRoofline) {
  const ModelArch llama = load_model("llama-3.1-405b");
  for (const char* name : {"h200-ib-256", "b200-ib-256", "deepseek-h800-2048"}) {
    const ClusterSpec c = load_cluster_file(name);
    const PerfModel perf(c, find_published_perf(c));
    const PerfModel ideal = PerfModel::roofline(c);
    for (double tp : {1.0, 2.0, 4.0, 8.0}) {
      for (double tokens : {2.0, 32.0, 512.0}) {
        DecodeSetting s;
        s.tp = tp;
        s.tokens_per_device = tokens;
        EXPECT_GE(predict_decode(llama, c, s, perf).step_s,
                  predict_decode(llama, c, s, ideal).step_s * (1 - 1e-12))
            << name << " tp " << tp << " tokens " << tokens;
        s.ep_degree = 16;
        s.redundant_experts = 0;
        EXPECT_GE(predict_decode(v3(), c, s, perf).step_s,
                  predict_decode(v3(), c, s, ideal).step_s * (1 - 1e-12));
      }
    }
  }
}

TEST(ServingModel, AGpuWithoutAPeakGetsNoPredictionAndSaysWhy) {
  // A node as `cobench sysinfo` discovers it has no FLOP peak: no prediction, no inf.
  ClusterSpec c = load_cluster_file("h200-ib-256");
  c.node.gpu->peak_fp8.reset();
  c.node.gpu->peak_bf16.reset();
  const Analysis a = analyze(v3(), c);
  EXPECT_EQ(a.json["inference"]["missing"], "node.gpu.peak_flops");
  EXPECT_FALSE(a.json["inference"].contains("prediction"));
  // Nothing was computed: no time, no rate and no binding bound (they read 0, 0 and
  // "memory_bandwidth" once).
  EXPECT_TRUE(a.json["inference"]["tpot_s"].is_null());
  EXPECT_TRUE(a.json["inference"]["tokens_per_s"].is_null());
  EXPECT_TRUE(a.json["inference"]["binding_bound"].is_null());
  EXPECT_TRUE(a.json["inference"]["tokens_per_s_per_device"].is_null());
  EXPECT_FALSE(a.json.contains("economics"));
  EXPECT_NE(cobench::test::error_of([&] {
              predict_decode(v3(), c, DecodeSetting{}, PerfModel(c, find_published_perf(c)));
            }).find("needs node.gpu.peak_flops"),
            std::string::npos);
  // A BF16 peak alone: FP8 GEMMs at the BF16 rate, a finite prediction.
  c.node.gpu->peak_bf16 = cobench::FlopRate(989e12);
  const ServingPrediction p =
      predict_decode(v3(), c, DecodeSetting{}, PerfModel(c, find_published_perf(c)));
  EXPECT_TRUE(std::isfinite(p.step_s));
  EXPECT_GT(p.step_s, 0);
}

TEST(ServingModel, PrefillComputeSharesTheSmsWithDeepEpsNormalKernels) {
  // H800: DeepEP's normal kernels hold 20 of the 132 SMs while the other micro-batch computes,
  // so an MoE layer's compute takes 132/112 of its time on the whole GPU; dense layers (no
  // EP traffic beside them), a sequential schedule and decode keep every SM.
  const ClusterSpec c = load_cluster_file("deepseek-h800-2048");
  const PerfModel perf(c, find_published_perf(c));
  EXPECT_DOUBLE_EQ(perf.compute_share(true), 112.0 / 132);
  EXPECT_DOUBLE_EQ(perf.compute_share(false), 1);
  EXPECT_DOUBLE_EQ(PerfModel::roofline(c).compute_share(true), 1);
  DecodeSetting s;
  s.prefill_ep = 32;
  s.prefill_tokens_per_device = 16384;
  s.prompt_tokens = 4096;
  const ServingPrediction overlap = predict_prefill(v3(), c, s, perf, /*detail=*/true);
  s.schedule = Schedule::kSequential;
  const ServingPrediction seq = predict_prefill(v3(), c, s, perf, /*detail=*/true);
  EXPECT_DOUBLE_EQ(overlap.compute_sm_share, 112.0 / 132);
  EXPECT_DOUBLE_EQ(seq.compute_sm_share, 1);
  auto time_of = [](const ServingPrediction& p, const std::string& layer, const std::string& op) {
    for (const OpTiming& t : p.ops)
      if (t.layer == layer && t.name == op) return t.per_step_s;
    ADD_FAILURE() << "no " << layer << " " << op;
    return 0.0;
  };
  EXPECT_NEAR(time_of(overlap, "MoE layer", "moe.experts_gate_up") /
                  time_of(seq, "MoE layer", "moe.experts_gate_up"),
              132.0 / 112, 1e-12);
  EXPECT_NEAR(time_of(overlap, "MoE layer", "attn.core") / time_of(seq, "MoE layer", "attn.core"),
              132.0 / 112, 1e-12);
  EXPECT_DOUBLE_EQ(time_of(overlap, "dense layer", "ffn.gate_up"),
                   time_of(seq, "dense layer", "ffn.gate_up"));
  EXPECT_DOUBLE_EQ(time_of(overlap, "MoE layer", "moe.dispatch"),
                   time_of(seq, "MoE layer", "moe.dispatch"));
  // A GPU whose SM count the cluster file does not state keeps them all.
  ClusterSpec unknown = c;
  unknown.node.gpu->sms.reset();
  EXPECT_DOUBLE_EQ(PerfModel(unknown, find_published_perf(c)).compute_share(true), 1);
}

TEST(PerfModel, BadPerfFilesNameTheKey) {
  auto error = [](const std::string& yaml) {
    return cobench::test::error_of(
        [&] { load_published_perf(cobench::config::parse_yaml(yaml, "p.yaml")); });
  };
  const std::string eff =
      "efficiency: {gemm_compute: 0.7, gemm_memory: 0.75, attention_compute: 0.6, "
      "attention_memory: 0.85, memory: 0.8}";
  const std::string ok = "perf:\n  gpu: X\n  " + eff + "\n";
  EXPECT_NO_THROW(load_published_perf(cobench::config::parse_yaml(ok, "p.yaml")));
  std::string bad = ok;
  bad.replace(bad.find("gemm_compute: 0.7"), 17, "gemm_compute: 1.5");
  EXPECT_NE(error(bad).find("key 'perf.efficiency.gemm_compute': expected an efficiency in (0, "
                            "1], got 1.5"),
            std::string::npos)
      << error(bad);
  EXPECT_NE(error(ok + "  gemm_fp8:\n    - {m: 0, n: 7168, k: 2048, rate: 100 TFLOPS}\n")
                .find("key 'perf.gemm_fp8[0].m'"),
            std::string::npos)
      << error(ok + "  gemm_fp8:\n    - {m: 0, n: 7168, k: 2048, rate: 100 TFLOPS}\n");
  // The weight-gradient table names its shape by the layer's in and out features and the tokens.
  const std::string wgrad = ok +
                            "  gemm_fp8_wgrad:\n    - {in: 7168, out: 2112, tokens: 0, rate: "
                            "920 TFLOPS}\n";
  EXPECT_NE(error(wgrad).find("key 'perf.gemm_fp8_wgrad[0].tokens'"), std::string::npos)
      << error(wgrad);
  const std::string wgrad_mnk =
      ok + "  gemm_fp8_wgrad:\n    - {m: 7168, n: 2112, k: 4096, rate: 920 TFLOPS}\n";
  EXPECT_NE(error(wgrad_mnk).find("gemm_fp8_wgrad[0]"), std::string::npos) << error(wgrad_mnk);
  EXPECT_NE(error(ok + "  attention_decode: {compute: -1 TFLOPS, memory: 3 TB/s}\n")
                .find("key 'perf.attention_decode.compute'"),
            std::string::npos);
  EXPECT_NE(error(ok + "  ep: {link: InfiniBand, nic_speed: 400 Gb/s, low_latency: [{ep: 1, "
                       "dispatch: 9 GB/s, combine: 9 GB/s}]}\n")
                .find("key 'perf.ep.low_latency[0].ep'"),
            std::string::npos);
  EXPECT_NE(error(ok + "  attention_prefill: {compute: 740 TFLOPS, backward: 1.5}\n")
                .find("key 'perf.attention_prefill.backward': expected an efficiency in (0, 1], "
                      "got 1.5"),
            std::string::npos)
      << error(ok + "  attention_prefill: {compute: 740 TFLOPS, backward: 1.5}\n");
  const std::string prefill = ok +
                              "  mla_prefill_bf16:\n    heads: 128\n    qk: 192\n    v: 128\n"
                              "    rows:\n      - {tokens: 4096, time: 1100 us}\n";
  EXPECT_NO_THROW(load_published_perf(cobench::config::parse_yaml(prefill, "p.yaml")));
  EXPECT_NE(error(prefill + "      - {tokens: 4096, time: 1000 us}\n")
                .find("key 'perf.mla_prefill_bf16.rows[1]': the same tokens as [0]"),
            std::string::npos)
      << error(prefill + "      - {tokens: 4096, time: 1000 us}\n");
  EXPECT_NE(error(prefill + "      - {tokens: 8192, time: 0 us}\n")
                .find("key 'perf.mla_prefill_bf16.rows[1].time'"),
            std::string::npos)
      << error(prefill + "      - {tokens: 8192, time: 0 us}\n");
  const std::string mla = ok +
                          "  mla_decode_bf16:\n    heads: 128\n    latent: 512\n    rope: 64\n"
                          "    rows:\n      - {batch: 64, context: 4096, time: 155 us}\n";
  EXPECT_NO_THROW(load_published_perf(cobench::config::parse_yaml(mla, "p.yaml")));
  EXPECT_NE(error(mla + "      - {batch: 64, context: 4096, time: 150 us}\n")
                .find("key 'perf.mla_decode_bf16.rows[1]': the same batch and context as [0]"),
            std::string::npos)
      << error(mla + "      - {batch: 64, context: 4096, time: 150 us}\n");
  EXPECT_NE(error(mla + "      - {batch: 0, context: 4096, time: 150 us}\n")
                .find("key 'perf.mla_decode_bf16.rows[1].batch'"),
            std::string::npos)
      << error(mla + "      - {batch: 0, context: 4096, time: 150 us}\n");
  EXPECT_NE(error(ok + "  prefill_comm_sms: -1\n").find("key 'perf.prefill_comm_sms'"),
            std::string::npos)
      << error(ok + "  prefill_comm_sms: -1\n");
}

TEST(PerfModel, WeightGradientsTakeTheWgradTable) {
  const ClusterSpec h800 = load_cluster_file("deepseek-h800-2048");
  const PerfModel perf(h800, find_published_perf(h800));
  // DeepSeek-V3's routed experts in training (EP64, 4096 tokens a GPU, top-8 of 256: 8192
  // tokens an expert, 4 experts a GPU): the gate/up weight gradient, 4096 outputs x 7168
  // inputs over K = 8192 tokens in 4 groups, is an entry of DeepGEMM pull request #95's
  // k-grouped table: 1044 TFLOPS.
  Op dw;
  dw.kind = OpKind::kGroupedGemm;
  dw.m = 4096, dw.n = 7168, dw.k = 8192, dw.groups = 4;
  dw.flops = 2.0 * 4096 * 7168 * 8192 * 4;
  dw.bytes = 4 * (7168.0 * 8192 + 4096.0 * 8192 + 4096.0 * 7168 * 2);
  dw.weight_grad = true;
  const OpTime t = perf.compute(dw, true);
  EXPECT_NEAR(t.seconds, dw.flops / 1044e12, 1e-15);
  EXPECT_EQ(t.source, PerfSource::kPublished);
  // The same shape as a forward GEMM is interpolated in the forward table: another time.
  Op fwd = dw;
  fwd.weight_grad = false;
  EXPECT_GT(std::fabs(perf.compute(fwd, true).seconds - t.seconds), 1e-6);
  // A dense one: the attention output projection's, 16384 inputs x 7168 outputs over 4096
  // tokens, 994 TFLOPS.
  Op out = dw;
  out.kind = OpKind::kGemm;
  out.m = 7168, out.n = 16384, out.k = 4096, out.groups = 1;
  out.flops = 2.0 * 7168 * 16384 * 4096;
  out.bytes = 16384.0 * 4096 + 7168.0 * 4096 + 7168.0 * 16384 * 2;
  EXPECT_NEAR(perf.compute(out, true).seconds, out.flops / 994e12, 1e-15);
}

// Training's 1B times each GEMM's input gradient, dX = dY W, on the shape (m, k, n) of the forward
// (m, n, k). gpu-check measures those shapes (`<shape>_dgrad` at M 4096): a measured entry at the
// dgrad shape gives B its time, not the forward entry of the same FLOPs.
TEST(PerfModel, InputGradientsTakeTheirOwnMeasuredEntry) {
  const ClusterSpec h800 = load_cluster_file("deepseek-h800-2048");
  PerfModel perf(h800, find_published_perf(h800));
  auto gemm = [](double m, double n, double k) {
    Op o;
    o.kind = OpKind::kGemm;
    o.precision = OpPrecision::kFp8;
    o.m = m, o.n = n, o.k = k;
    o.flops = 2 * m * n * k;
    o.bytes = n * k + m * k + 2 * m * n;  // FP8 operands, BF16 output
    return o;
  };
  // DeepSeek-V3's attention output projection at 4096 tokens: forward 7168 outputs from 16384,
  // its dgrad 16384 from 7168; made-up rates, 1200 and 900 TFLOPS, far apart.
  MeasuredTables t;
  t.gemm_fp8 = {{4096, 7168, 16384, 1, 1200e12}, {4096, 16384, 7168, 1, 900e12}};
  perf.use_measured(t);
  const Op fwd = gemm(4096, 7168, 16384), dgrad = gemm(4096, 16384, 7168);
  EXPECT_NEAR(perf.compute(fwd, true).seconds, fwd.flops / 1200e12, 1e-12);
  EXPECT_NEAR(perf.compute(dgrad, true).seconds, dgrad.flops / 900e12, 1e-12);
  EXPECT_EQ(perf.compute(dgrad, true).source, PerfSource::kMeasured);
}

// A measured shape faster than the FP8 peak in use (here a peak of 1000 TFLOPS, as a measured
// 4096^3 square might give) is timed at its own rate, not capped at the peak; the published
// weight-gradient table keeps its times.
TEST(PerfModel, AMeasuredShapeAboveThePeakKeepsItsRate) {
  ClusterSpec h800 = load_cluster_file("deepseek-h800-2048");
  h800.node.gpu->peak_fp8->value = 1000e12;
  const PerfModel published(h800, find_published_perf(h800));
  MeasuredTables t;
  t.gemm_fp8 = {{4096, 7168, 16384, 1, 1200e12}};
  // Without the cluster's peak raised first, the model refuses the table (one peak for the
  // roofline and the model).
  EXPECT_NE(cobench::test::error_of([&] {
              PerfModel(h800, find_published_perf(h800)).use_measured(t);
            }).find("call raise_fp8_peak on the cluster"),
            std::string::npos);
  std::vector<InputComparison> changed;
  raise_fp8_peak(h800, t, changed);
  PerfModel perf(h800, find_published_perf(h800));
  perf.use_measured(t);
  Op g;
  g.kind = OpKind::kGemm;
  g.precision = OpPrecision::kFp8;
  g.m = 4096, g.n = 7168, g.k = 16384;
  g.flops = 2 * g.m * g.n * g.k;
  g.bytes = g.n * g.k + g.m * g.k + 2 * g.m * g.n;
  EXPECT_NEAR(perf.compute(g, true).seconds, g.flops / 1200e12, 1e-12);
  // DeepGEMM's 994 TFLOPS weight gradient of the same projection (PerfModel.WeightGradients-
  // TakeTheWgradTable), with and without the raised peak.
  Op dw = g;
  dw.m = 7168, dw.n = 16384, dw.k = 4096;
  dw.bytes = 16384.0 * 4096 + 7168.0 * 4096 + 7168.0 * 16384 * 2;
  dw.weight_grad = true;
  EXPECT_NEAR(perf.compute(dw, true).seconds, published.compute(dw, true).seconds, 1e-12);
}

TEST(PerfModel, MlaDecodeTakesTheMeasuredTable) {
  const ClusterSpec h800 = load_cluster_file("deepseek-h800-2048");
  const PerfModel perf(h800, find_published_perf(h800));
  // DeepSeek-V3 decode, 64 sequences over 4096 cached tokens (the profile's micro-batch): its MLA
  // core is an entry of InferSim's H800 table (FlashInfer's MLA kernel), 155.153 us.
  ServingShape sh;
  sh.tokens = 64, sh.sequences = 64, sh.context = 4096, sh.ep = 128;
  sh.expert_slots = 256, sh.domain_gpus = 8;
  const StepOps ops = step_ops(v3(), sh);
  auto core = [](const LayerOps& l) {
    for (std::size_t i = 0; i < l.size; ++i)
      if (std::string(l.ops[i].name) == "attn.core") return l.ops[i];
    ADD_FAILURE() << "no attn.core";
    return Op{};
  };
  const Op mla = core(ops.moe);
  EXPECT_DOUBLE_EQ(mla.flops, 2.0 * 64 * 128 * (512 + 64 + 512) * 4096);
  const OpTime t = perf.compute(mla, false);
  EXPECT_NEAR(t.seconds, 155.153e-6, 1e-12);
  EXPECT_EQ(t.source, PerfSource::kPublished);
  // Between the entries (64 x 4096: 155.153 us, 64 x 8192: 288.668 us) a time between theirs,
  // over a context in between.
  sh.context = 6000;
  const double between = perf.compute(core(step_ops(v3(), sh).moe), false).seconds;
  EXPECT_GT(between, 155.153e-6);
  EXPECT_LT(between, 288.668e-6);
  // Small batches keep their measured launch floor: 1 x 2048 between 1 x 1024 (20.91 us) and
  // 1 x 4096 (21.653 us); 2 and 8 sequences over 1024 tokens between 1 x 1024 and 16 x 1024
  // (24.906 us).
  auto at = [&](double seqs, double context) {
    ServingShape x = sh;
    x.tokens = seqs, x.sequences = seqs, x.context = context;
    return perf.compute(core(step_ops(v3(), x).moe), false).seconds;
  };
  EXPECT_GE(at(1, 2048), 20.91e-6);
  EXPECT_LE(at(1, 2048), 21.653e-6);
  for (double seqs : {2.0, 8.0}) {
    EXPECT_GE(at(seqs, 1024), 20.91e-6) << seqs;
    EXPECT_LE(at(seqs, 1024), 24.906e-6) << seqs;
  }
  // The log of the time is linear in log2 context and log2 batch between entries (all three are
  // memory-bound, so the roofline scales with batch x context): 1 x 2048 is the geometric mean
  // of its row's neighbours, 8 x 1024 lies 3/4 of the way from batch 1 to batch 16.
  EXPECT_NEAR(at(1, 2048), std::sqrt(20.91 * 21.653) * 1e-6, 1e-12);
  EXPECT_NEAR(at(8, 1024), std::pow(20.91, 0.25) * std::pow(24.906, 0.75) * 1e-6, 1e-12);
  // Below the table a call keeps its launch floor: 1 x 256 takes 1 x 1024's 20.91 us.
  EXPECT_NEAR(at(1, 256), 20.91e-6, 1e-12);
  // Time grows with the context along a row.
  EXPECT_LT(at(1, 5120), at(1, 8192));
  EXPECT_GT(at(1, 5120), at(1, 4096));
  // Beyond the table the efficiency of its edge holds: 512 x 32768 reads 4x the KV of 512 x 8192
  // (2074.245 us, memory-bound at both), so 4x its time.
  EXPECT_NEAR(at(512, 32768), 4 * 2074.245e-6, 1e-12);
  // What the table does not cover keeps FlashMLA's ceilings (660 TFLOPS, 3000 GB/s): an FP8
  // cache, 64 heads (TP 2), a measured MLA decode.
  auto ceilings = [](const Op& op) { return std::max(op.flops / 660e12, op.bytes / 3000e9); };
  sh.context = 4096;
  sh.kv_bytes = 1;
  const Op fp8 = core(step_ops(v3(), sh).moe);
  EXPECT_NEAR(perf.compute(fp8, false).seconds, ceilings(fp8), 1e-15);
  // The published table is host-timed, so its times hold the launch: a measured kernel gap is
  // not added to them, where it is to an FP8 cache's MLA (FlashMLA's ceilings).
  ClusterSpec gapped = h800;
  gapped.node.gpu->kernel_gap = cobench::Seconds(5e-6);
  const PerfModel with_gap(gapped, find_published_perf(gapped));
  EXPECT_NEAR(with_gap.compute(mla, false).seconds, 155.153e-6, 1e-12);
  EXPECT_NEAR(with_gap.compute(fp8, false).seconds, ceilings(fp8) + 5e-6, 1e-15);
  sh.kv_bytes = 2;
  sh.tp = 2;
  const Op half_heads = core(step_ops(v3(), sh).moe);
  EXPECT_EQ(half_heads.heads, 64);
  EXPECT_NEAR(perf.compute(half_heads, false).seconds, ceilings(half_heads), 1e-15);
  PerfModel measured(h800, find_published_perf(h800));
  MeasuredTables tables;
  tables.mla_decode_flop_per_s = 400e12;
  tables.mla_decode_bytes_per_s = 2500e9;
  measured.use_measured(tables);
  EXPECT_NEAR(measured.compute(mla, false).seconds,
              std::max(mla.flops / 400e12, mla.bytes / 2500e9), 1e-15);
  EXPECT_EQ(measured.compute(mla, false).source, PerfSource::kMeasured);
  // The roofline ignores it.
  EXPECT_NEAR(PerfModel::roofline(h800).compute(mla, false).seconds,
              std::max(mla.flops / 989e12, mla.bytes / 3.35e12), 1e-15);
}

TEST(PerfModel, AttentionBackwardRunsAtItsOwnRate) {
  // H800: prefill attention at FlashAttention-3's 740 TFLOPS; its backward at 0.85 of that (the
  // paper's 542 against 638 TFLOPS at head dim 128 and 4K tokens).
  const ClusterSpec h800 = load_cluster_file("deepseek-h800-2048");
  const PerfModel perf(h800, find_published_perf(h800));
  Op fwd;
  fwd.kind = OpKind::kAttention;
  fwd.flops = 687e9;
  fwd.bytes = 1e6;
  EXPECT_NEAR(perf.compute(fwd, true).seconds, 687e9 / 740e12, 1e-15);
  Op back = fwd;
  back.flops *= 2.5;
  back.attention_backward = true;
  EXPECT_NEAR(perf.compute(back, true).seconds, 2.5 * 687e9 / (0.85 * 740e12), 1e-15);
  // A file without the fraction runs the backward at the forward's rate.
  PublishedPerf plain = find_published_perf(h800);
  plain.attention_backward_fraction = 1;
  EXPECT_NEAR(PerfModel(h800, plain).compute(back, true).seconds, 2.5 * 687e9 / 740e12, 1e-15);
}

TEST(PerfModel, MlaPrefillTakesTheMeasuredTable) {
  // DeepSeek-V3 prefill of one 4096-token prompt (no cache): its MLA core is an entry of
  // InferSim's H800 table (FlashAttention-3), 1104.692 us.
  const ClusterSpec h800 = load_cluster_file("deepseek-h800-2048");
  const PerfModel perf(h800, find_published_perf(h800));
  auto core = [](double tokens, double tp) {
    ServingShape sh;
    sh.tokens = tokens, sh.sequences = 1, sh.context = 0, sh.prefill = true, sh.ep = 32;
    sh.expert_slots = 256, sh.domain_gpus = 8, sh.tp = tp, sh.node_dedup = true;
    const LayerOps l = step_ops(v3(), sh).moe;
    for (std::size_t i = 0; i < l.size; ++i)
      if (std::string(l.ops[i].name) == "attn.core") return l.ops[i];
    ADD_FAILURE() << "no attn.core";
    return Op{};
  };
  const Op op = core(4096, 1);
  EXPECT_DOUBLE_EQ(op.flops, 4096.0 * 4096 * 128 * (192 + 128));  // causal: s^2 / 2 pairs
  const OpTime t = perf.compute(op, true);
  EXPECT_NEAR(t.seconds, 1104.692e-6, 1e-12);
  EXPECT_EQ(t.source, PerfSource::kPublished);
  // Its training backward: 2.5x the FLOPs at 0.85 of the rate (compute-bound at both).
  Op back = op;
  back.flops *= 2.5, back.bytes *= 2, back.attention_backward = true;
  EXPECT_NEAR(perf.compute(back, true).seconds, 2.5 * 1104.692e-6 / 0.85, 1e-12);
  // Between 1024 (116.88 us) and 4096 tokens the log of the efficiency is linear in log2 tokens
  // and the roofline grows with tokens^2, so 2048 tokens take the geometric mean of the two.
  EXPECT_NEAR(perf.compute(core(2048, 1), true).seconds, std::sqrt(116.88 * 1104.692) * 1e-6,
              1e-12);
  // 64 heads (TP 2) are not the table's kernel: FlashAttention-3's 740 TFLOPS.
  const Op half = core(4096, 2);
  EXPECT_NEAR(perf.compute(half, true).seconds, half.flops / 740e12, 1e-15);
}

TEST(PerfModel, AMeasuredKernelGapAddsToEveryKernel) {
  ClusterSpec c = load_cluster_file("h200-ib-256");
  Op op;
  op.kind = OpKind::kMemory;
  op.bytes = 4.8e9;  // 1 ms at the H200's 4.8 TB/s
  const double without = PerfModel(c, find_published_perf(c)).compute(op, false).seconds;
  c.node.gpu->kernel_gap = cobench::Seconds(2e-6);
  const PerfModel gap(c, find_published_perf(c));
  EXPECT_NEAR(gap.compute(op, false).seconds, without + 2e-6, 1e-15);
  EXPECT_NEAR(PerfModel::roofline(c).compute(op, false).seconds, 1e-3, 1e-15);  // no gap
  // One micro-batch of Qwen2.5-72B on one H200 (nothing overlaps): the step is the gapless one
  // plus one gap for each of its kernels: 80 layers of 13 (input quantization, QKV, RoPE, KV
  // append, attention, output quantization and projection, norms and residuals, gate/up
  // quantization and GEMM, SwiGLU, down quantization and GEMM; no TP collectives) and the
  // head's 2 (the projection and sampling).
  const ModelArch qwen = load_model("qwen2.5-72b");
  DecodeSetting d;
  d.tokens_per_device = 8;
  d.micro_batches = 1;
  ClusterSpec plain = c;
  plain.node.gpu->kernel_gap.reset();
  const double step =
      predict_decode(qwen, plain, d, PerfModel(plain, find_published_perf(plain))).step_s;
  EXPECT_NEAR(predict_decode(qwen, c, d, gap).step_s, step + (80 * 13 + 2) * 2e-6, 1e-12);
}

TEST(PerfModel, AKernelGapIsMeasuredLowestFirst) {
  // Two passing records of gpu.kernel_gap (seconds): the lower is kept, and it replaces the
  // cluster's none.
  cobench::results::Results r;
  for (double gap : {3.1e-6, 2.4e-6}) {
    cobench::results::Record rec;
    rec.suite = "memory_gpu";
    rec.benchmark = fmt::format("BM_KernelGap/{}", gap);
    rec.verification = cobench::results::Verification::kPassed;
    rec.parameters["model_input"] = "gpu.kernel_gap";
    cobench::results::Metric m;
    m.name = "kernel_gap_s";
    m.unit = "s";
    m.values = {gap};
    rec.metrics.push_back(m);
    r.records.push_back(rec);
  }
  const MeasuredInputs in = measured_inputs(r, "gaps.json");
  ASSERT_EQ(in.count("gpu.kernel_gap"), 1u);
  EXPECT_EQ(in.at("gpu.kernel_gap").value, 2.4e-6);
  ClusterSpec c = load_cluster_file("h200-ib-256");
  const auto changed = apply_measured(c, in);
  ASSERT_EQ(changed.size(), 1u);
  EXPECT_EQ(changed[0].datasheet, 0);
  EXPECT_EQ(c.node.gpu->kernel_gap->value, 2.4e-6);
  EXPECT_EQ(measured_input_unit("gpu.kernel_gap"), "s");
}

TEST(PerfModel, PublishedTablesApplyToTheirGpu) {
  const ClusterSpec h800 = load_cluster_file("deepseek-h800-2048");
  const PerfModel perf(h800, find_published_perf(h800));
  EXPECT_EQ(perf.published().gpu, "NVIDIA H800 SXM");
  // Exact at a table entry: DeepGEMM's 4096 x 7168 x 16384 at 1426 TFLOPS.
  Op op;
  op.kind = OpKind::kGemm;
  op.m = 4096, op.n = 7168, op.k = 16384;
  op.flops = 2.0 * 4096 * 7168 * 16384;
  op.bytes = 7168.0 * 16384 + 4096.0 * 16384 + 4096.0 * 7168 * 2;
  const OpTime t = perf.compute(op, false);
  EXPECT_NEAR(t.seconds, op.flops / 1426e12, 1e-15);
  EXPECT_EQ(t.source, PerfSource::kPublished);
  // MLA decode at FlashMLA's ceilings: 660 TFLOPS, 3000 GB/s.
  Op core;
  core.kind = OpKind::kAttention;
  core.flops = 660e12 * 1e-3;
  core.bytes = 3000e9 * 2e-3;
  EXPECT_NEAR(perf.compute(core, false).seconds, 2e-3, 1e-15);
  // Another GPU gets the default efficiencies on its datasheet peaks.
  const ClusterSpec h200 = load_cluster_file("h200-ib-256");
  const PerfModel other(h200, find_published_perf(h200));
  EXPECT_EQ(other.published().gpu, "default");
  const OpTime d = other.compute(op, false);
  EXPECT_EQ(d.source, PerfSource::kDatasheet);
  EXPECT_NEAR(d.seconds, op.flops / (h200.node.gpu->peak_fp8->value * 0.7), 1e-15);
}

// The H20's file (InferSim's measured tables, nvidia-h20.yaml) applies to the H20 node and to no
// other GPU: DeepGEMM's 4096 x 9216 x 4096 at its measured 1120 us, Qwen3-30B-A3B's GQA decode
// (32 query, 4 KV heads of 128) at the GQA table's median 3100 GB/s, compute at the MLA table's
// best, 123.8 TFLOPS.
TEST(PerfModel, TheH20TakesInferSimsH20Tables) {
  const ClusterSpec h20 = load_cluster_file("h20-8");
  const PerfModel perf(h20, find_published_perf(h20));
  EXPECT_EQ(perf.published().gpu, "NVIDIA H20");
  Op op;
  op.kind = OpKind::kGemm;
  op.m = 4096, op.n = 9216, op.k = 4096;
  op.flops = 2.0 * 4096 * 9216 * 4096;
  op.bytes = 9216.0 * 4096 + 4096.0 * 4096 + 4096.0 * 9216 * 2;
  const OpTime t = perf.compute(op, false);
  EXPECT_NEAR(t.seconds, 1120e-6, 1120e-6 * 1e-4);  // the file's rates are rounded to 0.01 TFLOPS
  EXPECT_EQ(t.source, PerfSource::kPublished);
  // 100 sequences over 5120 tokens: 100 x 5120 x 2 KB of K and V a layer.
  ServingShape s;
  s.tokens = s.sequences = 100;
  s.context = 5120;
  s.ep = 4;
  s.domain_gpus = 8;
  const ModelArch qwen3 = load_hf_config(
      cobench::config::load_file(std::string(COBENCH_TEST_DATA_DIR) + "/hf/qwen3-30b-a3b.json"));
  const StepOps ops = step_ops(qwen3, s);
  const Op& core = find(ops.moe, "attn.core");
  EXPECT_DOUBLE_EQ(core.bytes, 100.0 * 5120 * 2 * 4 * 128 * 2);
  EXPECT_NEAR(perf.compute(core, false).seconds, core.bytes / 3100e9, 1e-12);
  // H800 and H200 clusters keep their own files.
  const ClusterSpec h800 = load_cluster_file("deepseek-h800-2048");
  EXPECT_EQ(find_published_perf(h800).gpu, "NVIDIA H800 SXM");
  const ClusterSpec h200 = load_cluster_file("h200-ib-256");
  EXPECT_EQ(find_published_perf(h200).gpu, "default");
}

TEST(ServingTargets, TheBestConfigurationMeetsTheTargetAndOneMoreSequenceWouldNot) {
  const ClusterSpec c = load_cluster_file("h200-ib-256");
  DecodeSetting s;
  s.redundant_experts = 32;
  ServingTargets t;
  t.tokens_per_s_per_user = 30;
  const BestConfig b = best_config(v3(), c, s, t);
  ASSERT_TRUE(b.found) << b.why_none;
  EXPECT_GE(b.decode.tokens_per_s_per_user, 30);
  EXPECT_TRUE(b.decode.feasible);
  DecodeSetting more = s;
  more.ep_degree = b.ep;
  more.tokens_per_device = b.tokens_per_device + 2;  // one more sequence a micro-batch
  const ServingPrediction next =
      predict_decode(v3(), c, more, PerfModel(c, find_published_perf(c)));
  EXPECT_TRUE(next.tokens_per_s_per_user < 30 || !next.feasible);
  // No other EP degree of whole nodes does better a GPU at its own largest batch (checked at
  // the chosen batch: the chosen EP serves at least as many tokens a GPU).
  EXPECT_GT(b.decode.tokens_per_s_per_device, 0);
  ASSERT_TRUE(b.usd_per_million_output.has_value());
  EXPECT_NEAR(*b.usd_per_million_output,
              *c.gpu_hour_usd / 3600 / b.decode.tokens_per_s_per_device * 1e6, 1e-12);
  // An unreachable speed says what the fastest is.
  t.tokens_per_s_per_user = 1e5;
  const BestConfig none = best_config(v3(), c, s, t);
  EXPECT_FALSE(none.found);
  EXPECT_NE(none.why_none.find("no configuration reaches 1e+05 tok/s a user: the fastest is"),
            std::string::npos)
      << none.why_none;
  // A TTFT target over a prompt whose KV cannot fit (2^21 tokens x 70,272 B = 147 GB > 141 GB of
  // H200 HBM) is not met, and says why, rather than timing an impossible prefill.
  t.tokens_per_s_per_user = 30;
  t.ttft_s = 1e6;
  s.prompt_tokens = 1 << 21;
  const BestConfig no_fit = best_config(v3(), c, s, t);
  EXPECT_FALSE(no_fit.found);
  EXPECT_NE(no_fit.why_none.find("a prompt's prefill does not fit"), std::string::npos)
      << no_fit.why_none;
}

TEST(ServingTargets, EpSweepIsBounded) {
  ClusterSpec c = load_cluster_file("deepseek-h800-2048");
  const std::vector<std::int64_t> all = ep_sweep(c, 8);
  ASSERT_EQ(all.size(), 256u);  // every whole node: 8, 16, ..., 2048
  EXPECT_EQ(all.front(), 8);
  EXPECT_EQ(all.back(), 2048);
  c.nodes = 100000;  // 800,000 GPUs: 256 whole nodes, then x1.25 steps to the cluster
  const std::vector<std::int64_t> big = ep_sweep(c, 8);
  EXPECT_EQ(big[255], 2048);
  EXPECT_EQ(big[256], 2560);
  EXPECT_EQ(big.back(), 800000);
  EXPECT_LT(big.size(), 300u);
  for (size_t i = 1; i < big.size(); ++i) {
    EXPECT_GT(big[i], big[i - 1]);
    EXPECT_EQ(big[i] % 8, 0);
  }
}

// A given EP degree that cannot run on a cluster says why, not that no degree of whole nodes
// fits: beside a cluster that takes it, for that cluster; on every cluster, as an error.
TEST(ServingTargets, AGivenEpThatCannotRunSaysWhy) {
  DecodeSetting s;
  s.ep_degree = 144;
  s.redundant_experts = 32;
  ServingTargets t;
  t.tokens_per_s_per_user = 10;
  const ClusterComparison one = compare_clusters(
      v3(), {load_cluster_file("h20-8"), load_cluster_file("deepseek-h800-2048")}, s, t);
  EXPECT_EQ(one.json["clusters"][0]["why_none"],
            "--ep: EP degree 144 exceeds the cluster's 8 GPUs");
  EXPECT_EQ(one.json["clusters"][1]["ep_degree"], 144);
  // The cluster that finds none says so with a count and its unit, not a bare 0.
  bool none_row = false;
  for (const ReportRow& row : one.report.rows)
    if (row.key.find("best.none") != std::string::npos) {
      none_row = true;
      EXPECT_EQ(row.unit, "configurations");
      EXPECT_EQ(row.quantity, "configurations that meet the targets, of 0 predicted");
      EXPECT_EQ(row.cobench, 0);
    }
  EXPECT_TRUE(none_row);
  EXPECT_EQ(
      cobench::test::error_of([&] { compare_clusters(v3(), {load_cluster_file("h20-8")}, s, t); }),
      "--ep: EP degree 144 exceeds the cluster's 8 GPUs");
  s.ep_degree = 48;  // 288 slots over 48 GPUs split; 256 do not
  s.redundant_experts = 0;
  const std::string e = cobench::test::error_of([&] {
    compare_clusters(v3(), {load_cluster_file("h200-ib-256"), load_cluster_file("h20-8")}, s, t);
  });
  EXPECT_NE(e.find("no cluster takes the setting: H200"), std::string::npos) << e;
  EXPECT_NE(e.find("256 routed + 0 redundant experts do not divide evenly among 48"),
            std::string::npos)
      << e;
}

TEST(ServingTargets, ClustersSideBySide) {
  DecodeSetting s;
  s.redundant_experts = 32;
  ServingTargets t;
  t.tokens_per_s_per_user = 20;
  const ClusterComparison cmp = compare_clusters(
      v3(), {load_cluster_file("h200-ib-256"), load_cluster_file("gb200-nvl72")}, s, t);
  ASSERT_EQ(cmp.json["clusters"].size(), 2u);
  EXPECT_EQ(cmp.json["clusters"][1]["cluster"], "GB200 NVL72 (one rack)");
  // Inside one NVL72 domain no EP traffic crosses a NIC.
  EXPECT_LE(cmp.json["clusters"][1]["ep_degree"].get<double>(), 72);
  // The whole cluster serves in whole EP groups: floor(GPUs / EP) of them.
  for (const auto& j : cmp.json["clusters"]) {
    const double ep = j["ep_degree"].get<double>(), gpus = j["gpus"].get<double>();
    EXPECT_EQ(j["serving_gpus"].get<double>(), std::floor(gpus / ep) * ep) << j["cluster"];
  }
  const std::string key = "best.tokens_per_s_per_cluster";
  int seen = 0;
  for (const ReportRow& row : cmp.report.rows) {
    if (row.key.find(key) == std::string::npos) continue;
    const auto& j = cmp.json["clusters"][seen++];
    EXPECT_NEAR(row.cobench,
                j["tokens_per_s_per_device"].get<double>() * j["serving_gpus"].get<double>(),
                1e-6 * row.cobench);
  }
  EXPECT_EQ(seen, 2);
}

}  // namespace
