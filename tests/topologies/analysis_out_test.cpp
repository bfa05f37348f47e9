// SPDX-License-Identifier: Apache-2.0
// `cobench analyze` writes each quantity once (topologies/analysis_out.h): a row of the report in a
// display unit and the JSON field its key names, in SI units. These tests hold the two together.
#include "topologies/analysis_out.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "topologies/analysis.h"
#include "topologies/data_files.h"

namespace {

using namespace cobench::topo;

TEST(AnalysisOut, AQuantityIsOneRowAndOneFieldAtTheKeyItNames) {
  Analysis a;
  SectionOut out(a, "inference", "inference");
  out.quantity("prediction.tpot_s", "time per output token", 0.045, kShownMs, "a note");
  out.count("frontier_configurations", "configurations", 300, "");
  out.field("schedule", "overlap");
  out.row("op.moe.dispatch", "  moe dispatch", 1.25, "ms");
  // The JSON: SI seconds, nested at the dotted path; a count stays an integer.
  EXPECT_EQ(a.json["inference"]["prediction"]["tpot_s"].get<double>(), 0.045);
  EXPECT_TRUE(a.json["inference"]["frontier_configurations"].is_number_integer());
  EXPECT_EQ(a.json["inference"]["frontier_configurations"].get<int>(), 300);
  EXPECT_EQ(a.json["inference"]["schedule"], "overlap");
  EXPECT_FALSE(a.json["inference"].contains("op"));  // a row only
  // The rows: 45 ms shown, keys prefixed with the section's JSON key.
  ASSERT_EQ(a.report.rows.size(), 3u);
  EXPECT_EQ(a.report.rows[0].section, "inference");
  EXPECT_EQ(a.report.rows[0].key, "inference.prediction.tpot_s");
  EXPECT_DOUBLE_EQ(a.report.rows[0].cobench, 45.0);
  EXPECT_EQ(a.report.rows[0].unit, "ms");
  EXPECT_EQ(a.report.rows[0].note, "a note");
  EXPECT_EQ(a.report.rows[1].key, "inference.frontier_configurations");
  EXPECT_EQ(a.report.rows[1].cobench, 300);
  EXPECT_EQ(a.report.rows[2].key, "inference.op.moe.dispatch");
  EXPECT_FALSE(a.report.rows[2].paper.has_value());
}

TEST(AnalysisOut, ShownUnitsDivideExactlyAsWritten) {
  Analysis a;
  SectionOut out(a, "memory", "memory");
  out.quantity("kv_bytes_per_token", "KV a token", 70272, kShownKb);  // DeepSeek-V3, BF16
  out.quantity("cost_usd", "cost", 12.5e6, kShownMillionUsd);
  EXPECT_DOUBLE_EQ(a.report.rows[0].cobench, 70.272);
  EXPECT_EQ(a.report.rows[0].unit, "KB");
  EXPECT_DOUBLE_EQ(a.report.rows[1].cobench, 12.5);
  EXPECT_EQ(a.report.rows[1].unit, "M$");
}

// The JSON value at a row's key ("inference.prediction.tpot_s" -> json[...][...][...]), if any.
const nlohmann::json* field_of(const nlohmann::json& j, const std::string& key) {
  const nlohmann::json* at = &j;
  size_t from = 0;
  while (true) {
    const size_t dot = key.find('.', from);
    const std::string part = key.substr(from, dot == std::string::npos ? dot : dot - from);
    if (!at->is_object() || !at->contains(part)) return nullptr;
    at = &(*at)[part];
    if (dot == std::string::npos) return at;
    from = dot + 1;
  }
}

// Every row whose key names a numeric JSON field shows that field's value in a decimal scale of
// it (ms for s, GB for B, M$ for $, ...): the report and the JSON cannot tell two stories.
TEST(AnalysisOut, EveryRowWithAJsonFieldShowsItsValue) {
  struct Case {
    const char* model;
    const char* cluster;
    DecodeSetting setting;
  };
  DecodeSetting logfmt;
  logfmt.combine_format = "logfmt10";
  DecodeSetting too_big;  // the KV of 256 sequences of 131072 tokens does not fit on EP 8
  too_big.tokens_per_device = 256;
  too_big.context_tokens = 131072;
  too_big.ep_degree = 8;
  const std::vector<Case> cases = {{"deepseek-v3", "deepseek-h800-2048", {}},
                                   {"deepseek-v3", "h200-ib-256", logfmt},
                                   {"deepseek-v3", "h100-ib-256", too_big},
                                   {"deepseek-v3", "cpu-local", {}},
                                   {"qwen2.5-72b", "gb200-nvl72", {}}};
  for (const Case& c : cases) {
    const Analysis a = analyze(load_model(c.model), load_cluster_file(c.cluster), c.setting);
    int matched = 0;
    for (const ReportRow& row : a.report.rows) {
      const nlohmann::json* field = field_of(a.json, row.key);
      if (!field || !field->is_number()) continue;
      const double json = field->get<double>();
      ++matched;
      if (json == 0) {
        EXPECT_EQ(row.cobench, 0) << c.model << " on " << c.cluster << ": " << row.key;
        continue;
      }
      const double exponent = std::log10(row.cobench / json);
      EXPECT_NEAR(exponent, std::round(exponent), 1e-9)
          << c.model << " on " << c.cluster << ": " << row.key << " shows " << row.cobench
          << " for " << json;
    }
    // memory (params, KV), compute, and at least the decode and network rows on a GPU cluster.
    EXPECT_GE(matched, 8) << c.model << " on " << c.cluster;
  }
}

}  // namespace
