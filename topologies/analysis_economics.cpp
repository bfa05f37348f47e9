// SPDX-License-Identifier: Apache-2.0
// The economics section of `cobench analyze`: $ per million tokens from the predictions, and the
// speed-versus-cost frontier (GPU clusters with a price; docs/model.md, "Serving economics").
#include <fmt/format.h>

#include <algorithm>

#include "topologies/analysis_out.h"
#include "topologies/analysis_sections.h"
#include "topologies/economics.h"

namespace cobench::topo {

void economics_section(const SectionInputs& in, const InferenceOutcome& inference, Analysis& a) {
  const ClusterSpec& c = in.c;
  const DecodeSetting& s = in.s;
  if (!in.gpu() || !c.gpu_hour_usd || !inference.decode || !inference.decode->feasible) return;
  const ServingPrediction& decode = *inference.decode;
  const ServingPrediction& prefill = *inference.prefill;
  SectionOut out(a, "economics", "economics");
  const double price = *c.gpu_hour_usd;
  out.field("gpu_hour_usd", price);
  out.quantity("decode_usd_per_million_output",
               fmt::format("decode: $ per million output tokens ({:.0f} tokens a device, "
                           "predicted)",
                           s.tokens_per_device),
               usd_per_million_tokens(price, decode.tokens_per_s_per_device), shown_as_is("$"));
  if (prefill.feasible) {  // a prompt that does not fit has no speed and no price
    // The prefill's roofline: the same operations at the datasheet peaks, fully overlapped.
    const ServingPrediction roof = predict_prefill(in.m, c, s, PerfModel::roofline(c));
    out.field("prefill_tokens_per_s_per_gpu", prefill.tokens_per_s_per_device);
    out.quantity(
        "prefill_bound_tokens_per_s_per_gpu",
        fmt::format("prefill roofline: input tokens/s per GPU (prompt {:.0f}, {:.0f}% cache hits)",
                    s.prompt_tokens > 0 ? s.prompt_tokens : s.context_tokens, 100 * s.cache_hit),
        roof.tokens_per_s_per_device, shown_as_is("tok/s"),
        "the prediction's operations at the datasheet peaks, overlapped");
    out.quantity("prefill_usd_per_million_input", "prefill: $ per million input tokens (predicted)",
                 usd_per_million_tokens(price, prefill.tokens_per_s_per_device), shown_as_is("$"));
  }
  const Frontier f = cost_frontier(in.m, c, s, 256, &*inference.perf, /*coarse=*/true);
  nlohmann::json points = nlohmann::json::array();
  for (const FrontierPoint& pt : f.points)
    points.push_back({{"tokens_per_s_per_user", pt.tokens_per_s_per_user},
                      {"usd_per_million_output", pt.usd_per_million_output},
                      {"tokens_per_device", pt.tokens_per_device},
                      {"ep_degree", pt.ep_degree},
                      {"binding_bound", pt.binding}});
  out.field("frontier", std::move(points));
  out.count("frontier_configurations",
            "frontier: configurations swept (1-256 sequences a micro-batch x the EP degrees of "
            "whole nodes that split the experts, x1.25 steps, and the setting's own)",
            f.evaluated, "");
  // A sample of the frontier, about six points of it.
  const size_t step = std::max<size_t>(1, f.points.size() / 6);
  for (size_t i = 0; i < f.points.size(); i += step) {
    const FrontierPoint& pt = f.points[i];
    out.row("frontier",
            fmt::format("frontier: {:.1f} tok/s per user ({:.0f} tokens a GPU, EP {:.0f}, {})",
                        pt.tokens_per_s_per_user, pt.tokens_per_device, pt.ep_degree, pt.binding),
            pt.usd_per_million_output, "$/M out");
  }
}

}  // namespace cobench::topo
