// SPDX-License-Identifier: Apache-2.0
#include "topologies/training_layers.h"

#include <cstring>
#include <string>
#include <string_view>

namespace cobench::topo {
namespace {

// The same GEMM on another shape (its gradients): both operands at the forward's precision,
// BF16 out.
Op reshaped(const Op& op, double m, double n, double k) {
  Op o = op;
  o.m = m, o.n = n, o.k = k;
  const double in = op.precision == OpPrecision::kFp8 ? 1 : 2;
  o.bytes = op.groups * (n * k * in + m * k * in + m * n * 2);
  return o;
}

// Every GEMM in BF16: both operands and the output 2 B an element.
Op in_bf16(const Op& op) {
  Op o = op;
  o.precision = OpPrecision::kBf16;
  o.bytes = op.groups * (op.n * op.k * 2 + op.m * op.k * 2 + op.m * op.n * 2);
  return o;
}

// DeepSeek-V3's technical report (arXiv 2412.19437, 3.5.2): the forward stores an FP8 GEMM's
// input X in 1x128 tiles; for the weight gradient (K = the tokens) "the matrix needs to be read
// out, dequantized, transposed, re-quantized into 128x1 tiles, and stored in HBM". A
// memory-bound kernel a GEMM: one FP8 read and one FP8 write an element of X (the scales, 4 B a
// 128 elements, left out). A recomputed input is charged the same.
Op transposed_quant(const char* name, double elements) {
  Op o;
  o.name = name;
  o.kind = OpKind::kMemory;
  o.precision = OpPrecision::kFp8;
  o.bytes = 2 * elements;
  o.form = "1x128 FP8 tiles read, 128x1 written";
  return o;
}

// The output gradient dY (m x n BF16) of an FP8 GEMM is quantized for its two FP8 GEMMs (the
// technical report's figure 6: Dgrad and Wgrad take FP8 inputs): in 1x128 tiles along n for
// dX = dY W^T, priced as the forward's input quantization (serving_ops: 2 B read, 1 B and a 4 B
// scale a 128 written), and in 128x1 tiles along the tokens for dW = dY^T X, priced as X's
// re-tiling above. Unfused, as the forward's quantizations are (DeepSeek does not publish which
// it fuses).
Op grad_quant(const Op& gemm) {
  Op o;
  o.name = "grad_quant";
  o.kind = OpKind::kMemory;
  o.precision = OpPrecision::kFp8;
  o.bytes = gemm.m * gemm.n * gemm.groups * (2 + 1 + 4.0 / 128);
  o.form = "dY: BF16 -> FP8 + a scale a 1x128 tile";
  return o;
}

bool recomputed(const char* name) {
  return std::strcmp(name, "attn.q_up") == 0 || std::strcmp(name, "attn.kv_up") == 0;
}

}  // namespace

LayerTimes layer_times(const LayerOps& l, const LayerContext& x) {
  const PerfModel& perf = x.perf;
  LayerTimes t;
  bool mla_recomputed = false, after_swiglu = false;
  double out_input_elements = 0;
  for (std::size_t i = 0; i < l.size; ++i) {
    mla_recomputed = mla_recomputed || std::strcmp(l.ops[i].name, "attn.kv_up") == 0;
    if (std::strcmp(l.ops[i].name, "attn.out") == 0) out_input_elements = l.ops[i].m * l.ops[i].k;
  }
  for (std::size_t i = 0; i < l.size; ++i) {
    const Op& op = l.ops[i];
    auto time = [&](const Op& o) { return perf.compute(o, /*prefill=*/true).seconds; };
    switch (op.kind) {
      case OpKind::kGemm:
      case OpKind::kGroupedGemm: {
        const Op g = x.bf16 && op.precision == OpPrecision::kFp8 ? in_bf16(op) : op;
        t.f += time(g);
        t.b += time(reshaped(g, g.m, g.k, g.n));  // dX = dY W^T
        Op dw = reshaped(g, g.n, g.k, g.m);       // dW = dY^T X, K = the tokens
        dw.weight_grad = true;
        t.w += time(dw);
        if (g.precision == OpPrecision::kFp8) {
          t.b += time(grad_quant(g));
          t.w += time(transposed_quant("x_transposed_quant", g.m * g.k * g.groups));
          t.w += time(transposed_quant("dy_transposed_quant", g.m * g.n * g.groups));
        }
        t.params += g.n * g.k * g.groups;
        // The input X for dW = dY^T X; a recomputed GEMM's input is recomputed from its own
        // (kept) input, and its output, the next operation's input, is not kept either. Under
        // sequence parallelism a GEMM on the all-gathered hidden state keeps its 1/TP shard and
        // gathers it again in the backward (Korthikanti et al., section 4.2.2).
        const double shard =
            x.tp > 1 && g.kind == OpKind::kGemm && g.k == x.hidden && g.m == x.tokens ? x.tp : 1;
        if (recomputed(g.name))
          t.recompute += time(g);
        else if (!after_swiglu)  // the SwiGLU output is recomputed from its kept input
          t.saved_bytes +=
              g.m * g.k * g.groups * (g.precision == OpPrecision::kFp8 ? 1 : 2) / shard;
        after_swiglu = false;
        break;
      }
      case OpKind::kAttention: {
        t.f += time(op);
        // FlashAttention's backward needs Q, K, V and O. Where they come from recomputed
        // up-projections (MLA), only O is kept. Otherwise Q and O (BF16, the shape of the output
        // projection's input) and the K and V the op reads.
        // DeepSeek keeps the output projection's input in E5M6 and the attention backward reads
        // it as O: 0.5 B an element on top of the 1 B counted for that GEMM's input.
        t.saved_bytes +=
            mla_recomputed ? out_input_elements * 0.5 : 2 * out_input_elements * 2 + op.bytes;
        Op back = op;
        back.flops *= 2.5;
        back.bytes *= 2;
        back.attention_backward = true;  // at the perf file's backward rate
        t.b += time(back);
        break;
      }
      case OpKind::kMemory: {
        const std::string_view name(op.name);
        // No KV cache in training.
        if (name == "attn.kv_append") break;
        // An FP8 GEMM's input quantization: forward only (the quantized input is what the GEMM
        // keeps, counted there; the backward's own are grad_quant and transposed_quant); none
        // in BF16 training. It leaves the SwiGLU mark for the GEMM it feeds.
        if (name.ends_with("_quant")) {
          if (!x.bf16) t.f += time(op);
          break;
        }
        // RoPE: the backward rotates the gradient back (the same bytes) and keeps nothing.
        if (name == "attn.rope") {
          t.f += time(op);
          t.b += time(op);
          break;
        }
        // Sequence parallelism splits the norms and residuals over the TP group.
        Op mem = op;
        const bool norms = std::strcmp(op.name, "norms_residual") == 0;
        if (norms) mem.bytes /= x.tp;
        t.f += time(mem);
        // SwiGLU: its input kept in FP8 (2 of its 3 x 2 B an element; BF16 under kBf16), its
        // output recomputed (the technical report, 3.3.3); other element-wise work keeps its BF16
        // input.
        after_swiglu = std::strstr(op.name, "swiglu") != nullptr;
        // The LM head's logits are not kept: the loss's gradient is computed as they are.
        if (name != "sampling")
          t.saved_bytes += after_swiglu ? mem.bytes / 3 * (x.bf16 ? 2 : 1) : mem.bytes / 2;
        Op back = mem;
        back.bytes *= 2;
        t.b += time(back);
        // The two RMSNorms are half of the norms-and-residuals bytes.
        if (norms) t.recompute += time(mem) / 2;
        break;
      }
      case OpKind::kDispatch:
      case OpKind::kCombine: {
        const double c = perf.comm(op, x.ep, /*prefill=*/true).seconds;
        t.f_comm += c;
        t.b_comm += c;
        break;
      }
      case OpKind::kAllReduce: {
        // serving_ops' all-reduce of t x hidden BF16 after a row-parallel GEMM: under sequence
        // parallelism a reduce-scatter and the next all-gather, each half of its bytes.
        Op half = op;
        half.comm_up_bytes /= 2;
        t.tp_comm += 2 * perf.comm(half, x.ep, /*prefill=*/true).seconds;
        break;
      }
    }
  }
  t.b += t.recompute;
  return t;
}

double routed_expert_params(const LayerOps& l) {
  double n = 0;
  for (std::size_t i = 0; i < l.size; ++i)
    if (std::strncmp(l.ops[i].name, "moe.experts", 11) == 0)
      n += l.ops[i].n * l.ops[i].k * l.ops[i].groups;
  return n;
}

double tp_whole_params(const LayerOps& l) {
  double n = 0;
  for (std::size_t i = 0; i < l.size; ++i)
    if (std::strcmp(l.ops[i].name, "moe.router") == 0 ||
        std::strncmp(l.ops[i].name, "moe.shared_", 11) == 0)
      if (l.ops[i].kind == OpKind::kGemm) n += l.ops[i].n * l.ops[i].k * l.ops[i].groups;
  return n;
}

}  // namespace cobench::topo
