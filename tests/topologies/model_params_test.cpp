// SPDX-License-Identifier: Apache-2.0
// Parameter counts against published totals (safetensors totals and model cards), and the KV
// and FLOP formulas against hand-worked values. Models come from the shipped files and from
// Hugging Face config.json copies in tests/data/hf.
#include "topologies/model_params.h"

#include <gtest/gtest.h>

#include <string>

#include "core/config.h"
#include "topologies/data_files.h"
#include "topologies/hf_config.h"

namespace {

using namespace cobench;
using namespace cobench::topo;

ModelArch hf(const std::string& name) {
  return load_hf_config(config::load_file(std::string(COBENCH_TEST_DATA_DIR) + "/hf/" + name));
}

TEST(ModelParams, DenseTotalsMatchPublishedCounts) {
  // Exact totals of the released checkpoints.
  EXPECT_EQ(count_params(hf("llama-3.1-8b.json")).total(), 8'030'261'248.0);
  EXPECT_EQ(count_params(hf("qwen2.5-7b.json")).total(), 7'615'616'512.0);
}

TEST(ModelParams, MoeTotalsAndActiveMatchPublishedCounts) {
  const ParamBreakdown mixtral = count_params(hf("mixtral-8x7b.json"));
  EXPECT_EQ(mixtral.total(), 46'702'792'704.0);   // Mixtral 8x7B checkpoint
  EXPECT_NEAR(mixtral.active(), 12.9e9, 0.05e9);  // "12.9B active parameters"

  const ParamBreakdown qwen3 = count_params(hf("qwen3-30b-a3b.json"));
  EXPECT_NEAR(qwen3.total(), 30.5e9, 0.05e9);  // model card: 30.5B total, 3.3B activated
  EXPECT_NEAR(qwen3.active(), 3.3e9, 0.06e9);

  const ParamBreakdown oss = count_params(hf("gpt-oss-120b.json"));
  EXPECT_NEAR(oss.total(), 116.83e9, 0.01e9);  // model card: 116.83B total
  // The card's 5.13B active counts the unembedding but not the embedding lookup.
  EXPECT_NEAR(oss.active() - oss.embedding, 5.13e9, 0.01e9);
}

// The shipped Qwen3-8B file against its model card: "8.2B" parameters, "6.95B" without the
// embeddings (the input embedding and the untied LM head).
TEST(ModelParams, Qwen3EightBMatchesItsModelCard) {
  const ParamBreakdown q = count_params(load_model("qwen3-8b"));
  EXPECT_NEAR(q.total(), 8.2e9, 0.05e9);
  EXPECT_NEAR(q.total() - q.embedding - q.lm_head, 6.95e9, 0.005e9);
}

TEST(ModelParams, DeepSeekV3MlaLayerByHand) {
  const ModelArch v3 = load_model("deepseek-v3");
  // q: 7168x1536 + 1536 + 1536x128x192; kv: 7168x576 + 512 + 512x128x256; o: 128x128x7168
  //  = 11,010,048 + 1,536 + 37,748,736 + 4,128,768 + 512 + 16,777,216 + 117,440,512
  EXPECT_EQ(count_params(v3).attention, 61 * 187'107'328.0);
  EXPECT_NEAR(count_params(v3).total(), 671e9, 0.1e9);
}

TEST(ModelParams, HfConfigAndShippedYamlAgree) {
  const ParamBreakdown yaml = count_params(load_model("deepseek-v3"));
  const ParamBreakdown json = count_params(hf("deepseek-v3.json"));
  EXPECT_EQ(yaml.total(), json.total());
  EXPECT_EQ(yaml.active(), json.active());
  EXPECT_EQ(hf("deepseek-v3.json").mtp_modules, 1);
}

TEST(ModelParams, Qwen3MoeHfConfigAndShippedYamlAgree) {
  const ParamBreakdown yaml = count_params(load_model("qwen3-30b-a3b"));
  const ParamBreakdown json = count_params(hf("qwen3-30b-a3b.json"));
  EXPECT_EQ(yaml.total(), json.total());
  EXPECT_EQ(yaml.active(), json.active());
  EXPECT_EQ(yaml.attention, json.attention);
}

TEST(ModelParams, KvBytesPerTokenTable1) {
  // MLA: (512 + 64) x 61 x 2; GQA: 2 x 8 x 128 x L x 2.
  EXPECT_EQ(kv_bytes_per_token(load_model("deepseek-v3")).value, 70'272.0);
  EXPECT_EQ(kv_bytes_per_token(load_model("qwen2.5-72b")).value, 327'680.0);
  EXPECT_EQ(kv_bytes_per_token(load_model("llama-3.1-405b")).value, 516'096.0);
  EXPECT_EQ(kv_bytes_per_token(load_model("deepseek-v3"), 1.0).value, 35'136.0);  // FP8
}

TEST(ModelParams, TrainingFlopConventions) {
  const ModelArch qwen = load_model("qwen2.5-72b");
  // 72 x 80 x 8192^2 + 6 x 152064 x 8192
  EXPECT_EQ(train_flops_per_token(qwen, 4096, FlopConvention::kDenseApprox),
            72.0 * 80 * 8192 * 8192 + 6.0 * 152064 * 8192);
  // Attention: 2 x 64 heads x (128 + 128) x 2048 (causal mean context) x 80 layers.
  EXPECT_EQ(attention_flops_forward(qwen, 4096, true), 2.0 * 64 * 256 * 2048 * 80);
  EXPECT_EQ(attention_flops_forward(qwen, 4096, false),
            2 * attention_flops_forward(qwen, 4096, true));
  const double v3 =
      train_flops_per_token(load_model("deepseek-v3"), 4096, FlopConvention::kExactCausal);
  EXPECT_NEAR(v3 / 1e9, 250, 2.5);  // Table 2, within 1%
}

}  // namespace
