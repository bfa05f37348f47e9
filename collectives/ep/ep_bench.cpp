// SPDX-License-Identifier: Apache-2.0
#include "collectives/ep/ep_bench.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <memory>
#include <utility>

#include "collectives/ep/ep_token.h"
#include "collectives/watchdog.h"
#include "core/error.h"
#include "core/nvtx.h"

namespace cobench::coll::ep {

namespace {

constexpr double kSlack = 1.0 + 1.0 / 1024;  // FP32 sums of a few terms, float log2/exp2

// Counts failures and keeps the first message.
struct Failures {
  std::int64_t count = 0;
  std::string first;
  void add(const std::string& what, std::int64_t n = 1) {
    if (n <= 0) return;
    if (count == 0) first = what;
    count += n;
  }
};

void check_dispatch(const EpConfig& c, int me, int ranks, const std::vector<Routing>& all,
                    const EpExchange& ex, Failures& f) {
  const auto t_count = static_cast<std::int64_t>(c.tokens_per_rank) + 1;  // pair keys
  std::vector<std::int64_t> expected, got;
  for (int src = 0; src < ranks; ++src)
    for (int t = 0; t < all[static_cast<std::size_t>(src)].tokens; ++t)
      for (int j = 0; j < c.top_k; ++j)
        if (rank_of_expert(c, ranks, all[src].experts_of(t)[j]) == me) {
          expected.push_back(src * t_count + t);
          break;
        }
  const std::size_t p = dispatch_payload_bytes(c.hidden);
  std::vector<std::byte> payload(p);
  std::vector<float> x(static_cast<std::size_t>(c.hidden));
  for (std::size_t i = 0; i < ex.received(); ++i) {
    const RecordView r = ex.record(i);
    if (r.source_rank < 0 || r.source_rank >= ranks || r.token < 0 ||
        r.token >= all[static_cast<std::size_t>(r.source_rank)].tokens) {
      f.add(fmt::format("received copy {} names rank {} token {}, outside the job", i,
                        r.source_rank, r.token));
      continue;
    }
    got.push_back(r.source_rank * t_count + r.token);
    const Routing& route = all[static_cast<std::size_t>(r.source_rank)];
    if (std::memcmp(r.experts, route.experts_of(r.token), 4 * static_cast<std::size_t>(c.top_k)) ||
        std::memcmp(r.weights, route.weights_of(r.token), 4 * static_cast<std::size_t>(c.top_k)))
      f.add(fmt::format("token {} of rank {}: routing differs from the source's", r.token,
                        r.source_rank));
    token_values(c, r.source_rank, r.token, x.data());
    quantize_payload(x.data(), c.hidden, payload.data());
    if (std::memcmp(r.payload, payload.data(), p) != 0)
      f.add(fmt::format("token {} of rank {}: FP8 payload differs from the source's", r.token,
                        r.source_rank));
  }
  std::sort(got.begin(), got.end());
  std::vector<std::int64_t> diff;
  std::set_symmetric_difference(expected.begin(), expected.end(), got.begin(), got.end(),
                                std::back_inserter(diff));
  if (!diff.empty())
    f.add(
        fmt::format("received {} token copies, expected {}; {} (rank, token) pairs differ, "
                    "first rank {} token {}",
                    got.size(), expected.size(), diff.size(), diff[0] / t_count, diff[0] % t_count),
        static_cast<std::int64_t>(diff.size()));
}

// The experts of this rank: partial_i = x~ sum over local experts of w_j c_j, encoded in the
// combine format.
void compute_partials(const EpConfig& c, int me, int ranks, EpExchange& ex) {
  std::vector<float> x(static_cast<std::size_t>(c.hidden)), partial(x.size());
  for (std::size_t i = 0; i < ex.received(); ++i) {
    const RecordView r = ex.record(i);
    double factor = 0;
    for (int j = 0; j < c.top_k; ++j) {
      int e = 0;
      float w = 0;
      std::memcpy(&e, r.experts + j, 4);
      std::memcpy(&w, r.weights + j, 4);
      if (rank_of_expert(c, ranks, e) == me) factor += w * expert_factor(e);
    }
    dequantize_payload(r.payload, c.hidden, x.data());
    for (int k = 0; k < c.hidden; ++k) partial[k] = static_cast<float>(factor * x[k]);
    ex.set_partial(i, partial.data());
  }
}

// The largest magnitude of each 128-value tile of x (h values).
std::vector<double> tile_amax(const std::vector<float>& x) {
  std::vector<double> a((x.size() + 127) / 128, 0.0);
  for (std::size_t k = 0; k < x.size(); ++k)
    a[k / 128] = std::max(a[k / 128], std::fabs(static_cast<double>(x[k])));
  return a;
}

}  // namespace

// Derivation. One encoding of a value v in a tile of largest magnitude A errs by at most
// e(v) = rel |v| + amax_rel A (ep_combine_format.h). The partial a rank p returns is f_p x~
// (f_p = sum of its experts' w_j c_j > 0): its value k errs by at most f_p e_k with
// e_k = rel |x~_k| + amax_rel A_x (A_x: the largest |x~| in k's tile, the partial's tile scaled
// by f_p), and the flat sum of the partials by at most R e_k, R = sum_p f_p (the routed factor).
// Hierarchical encodes twice in series: a node's sum S of its partials (factors summing to F) has
// |S_k| <= F (1 + rel) |x~_k| + F amax_rel A_x and a tile maximum <= F (1 + rel + amax_rel) A_x,
// so its second encoding errs by at most F (1 + 2 rel + amax_rel) e_k, and both together by
// R (2 + 2 rel + amax_rel) e_k <= 2 (1 + 2 rel + amax_rel) R e_k. In general, m encodings:
// m (1 + 2 rel + amax_rel)^(m - 1) R e_k. BF16, flat: 2^-8 |x~_k| R, the classic half ulp.
double combine_error_bound(const CombineErrorBound& b, int encodings, double x_abs,
                           double x_tile_amax, double routed) {
  const double e = b.rel * x_abs + b.amax_rel * x_tile_amax;
  return encodings * std::pow(1 + 2 * b.rel + b.amax_rel, encodings - 1) * routed * e * kSlack +
         1e-30;
}

namespace {

// Output + shared expert against the FP64 reference; returns the largest relative error and
// the largest fraction of the bound used. A NaN fails (the comparison is written to be false).
std::pair<double, double> check_combine(const EpConfig& c, int me, const Routing& mine,
                                        const std::byte* payloads, const std::vector<float>& out,
                                        int encodings, Failures& f) {
  const std::size_t p = dispatch_payload_bytes(c.hidden);
  const auto h = static_cast<std::size_t>(c.hidden);
  const CombineErrorBound b = combine_error_bound(c.combine_format);
  std::vector<float> x(h);
  double worst = 0, used = 0;
  for (int t = 0; t < mine.tokens; ++t) {
    dequantize_payload(payloads + p * static_cast<std::size_t>(t), c.hidden, x.data());
    const std::vector<double> amax = tile_amax(x);
    const double total = output_factor(c, mine, t);
    const double routed = total - (c.shared_expert ? kSharedFactor : 0.0);
    for (std::size_t k = 0; k < h; ++k) {
      const double shared = c.shared_expert ? kSharedFactor * x[k] : 0.0;
      const double got = out[static_cast<std::size_t>(t) * h + k] + shared;
      const double want = total * x[k];
      const double scale = std::fabs(x[k]) * routed;
      const double err = std::fabs(got - want);
      const double bound =
          combine_error_bound(b, encodings, std::fabs(x[k]), amax[k / 128], routed);
      if (scale > 0) worst = std::max(worst, err / scale);
      used = std::max(used, err / bound);
      if (!(err <= bound)) {
        f.add(fmt::format("rank {} token {} element {}: {} against the reference {} (bound {})", me,
                          t, k, got, want, bound));
        used = std::max(used, std::isfinite(err) ? err / bound : HUGE_VAL);
      }
    }
  }
  return {worst, used};
}

TrafficStats agree(Communicator& world, const Traffic& t) {
  const std::vector<double> v{t.payload.network, t.payload.intra,   t.wire.network,
                              t.wire.intra,      t.logical_network, t.logical_intra};
  const std::vector<double> max = world.max_over_ranks(v);
  std::vector<double> mean(v.size());
  for (std::size_t i = 0; i < v.size(); ++i)
    mean[i] =
        static_cast<double>(world.sum_over_ranks(static_cast<std::int64_t>(v[i]))) / world.size();
  auto unpack = [](const std::vector<double>& a) {
    Traffic x;
    x.payload = {a[0], a[1]};
    x.wire = {a[2], a[3]};
    x.logical_network = a[4];
    x.logical_intra = a[5];
    return x;
  };
  return {unpack(mean), unpack(max)};
}

}  // namespace

std::vector<EpResult> run_ep(Communicator& world, const NodeLayout& layout,
                             const EpBenchOptions& opt, Watchdog* watchdog,
                             const EpProgress& progress) {
  const EpConfig& c = opt.config;
  validate(c, world.size());
  COBENCH_CHECK(opt.iters >= 1 && opt.repetitions >= 1 && opt.warmup >= 0,
                "iterations and repetitions must be positive, warm-up not negative");
  const int me = world.rank(), ranks = world.size();
  const std::vector<Routing> all = route_all_ranks(c, layout);
  const Routing& mine = all[static_cast<std::size_t>(me)];
  const std::vector<std::byte> payloads = make_payloads(c, me, mine.tokens);
  const auto out_size = static_cast<std::size_t>(mine.tokens) * c.hidden;
  std::vector<float> out(out_size), flat_out;

  std::vector<bool> which;
  if (opt.flat) which.push_back(false);
  if (opt.hierarchical) which.push_back(true);
  std::vector<EpResult> results;
  for (bool hier : which) {
    EpResult r;
    r.implementation = hier ? "hierarchical" : "flat";
    r.backend = std::string(world.backend());
    r.data_path = std::string(data_path(world.memory_kind()));
    const std::string what = fmt::format("EP {} dispatch/combine", r.implementation);
    NvtxRange range(what.c_str());
    const std::unique_ptr<EpExchange> exchange = make_ep_exchange(c, world, layout, hier);
    EpExchange& ex = *exchange;
    Failures f;
    {
      WatchdogScope scope(watchdog, "verifying " + what);
      ex.dispatch(mine, payloads.data());
      check_dispatch(c, me, ranks, all, ex, f);
      compute_partials(c, me, ranks, ex);
      ex.combine(out.data());
    }
    const int encodings = hier ? 2 : 1;
    const auto [rel, used] = check_combine(c, me, mine, payloads.data(), out, encodings, f);
    if (!hier) {
      flat_out = out;
    } else if (!flat_out.empty()) {
      std::vector<float> x(static_cast<std::size_t>(c.hidden));
      const std::size_t p = dispatch_payload_bytes(c.hidden);
      const CombineErrorBound b = combine_error_bound(c.combine_format);
      for (int t = 0; t < mine.tokens; ++t) {
        dequantize_payload(payloads.data() + p * static_cast<std::size_t>(t), c.hidden, x.data());
        const std::vector<double> amax = tile_amax(x);
        const double routed = output_factor(c, mine, t) - (c.shared_expert ? kSharedFactor : 0.0);
        for (int k = 0; k < c.hidden; ++k) {
          const std::size_t i = static_cast<std::size_t>(t) * c.hidden + k;
          const double a = std::fabs(x[k]), tile = amax[static_cast<std::size_t>(k) / 128];
          const double bound = combine_error_bound(b, 1, a, tile, routed) +
                               combine_error_bound(b, 2, a, tile, routed);
          if (!(std::fabs(out[i] - flat_out[i]) <= bound))
            f.add(fmt::format("token {} element {}: hierarchical {} differs from flat {}", t, k,
                              out[i], flat_out[i]));
        }
      }
    }
    WatchdogScope scope(watchdog, "agreeing on the verification of " + what);
    r.wrong = world.sum_over_ranks(f.count);
    r.received_tokens = world.sum_over_ranks(static_cast<std::int64_t>(ex.received()));
    r.max_rel_error = world.max_over_ranks(rel);
    r.max_error_over_bound = world.max_over_ranks(used);
    r.combine_format = to_string(c.combine_format);
    r.detail = f.count != 0 ? f.first
               : r.wrong != 0
                   ? std::string("this rank's checks pass; another rank's fail")
                   : fmt::format(
                         "dispatch exact on every rank; combine within the bound of {} {} "
                         "encoding{} of the FP64 reference{}",
                         encodings, to_string(c.combine_format), encodings > 1 ? "s" : "",
                         hier && !flat_out.empty() ? "; equal to flat within both bounds" : "");
    r.dispatch = agree(world, ex.dispatch_traffic());
    r.combine = agree(world, ex.combine_traffic());
    if (r.wrong == 0) {
      WatchdogScope timed(watchdog, what);
      for (int i = 0; i < opt.warmup; ++i) {
        ex.dispatch(mine, payloads.data());
        ex.combine(out.data());
      }
      // Per repetition, this rank's mean per round: communication, staging, end to end.
      std::vector<double> d, cmb, d_stage, c_stage, d_total, c_total;
      for (int rep = 0; rep < opt.repetitions; ++rep) {
        StageTimes sd, sc;
        double td = 0, tc = 0;
        for (int i = 0; i < opt.iters; ++i) {
          world.barrier();
          const auto t0 = std::chrono::steady_clock::now();
          ex.dispatch(mine, payloads.data());
          const auto t1 = std::chrono::steady_clock::now();
          world.barrier();
          const auto t2 = std::chrono::steady_clock::now();
          ex.combine(out.data());
          const auto t3 = std::chrono::steady_clock::now();
          td += std::chrono::duration<double>(t1 - t0).count();
          tc += std::chrono::duration<double>(t3 - t2).count();
          sd += ex.dispatch_times();
          sc += ex.combine_times();
        }
        d.push_back(sd.communication_s / opt.iters);
        cmb.push_back(sc.communication_s / opt.iters);
        d_stage.push_back(sd.staging_s / opt.iters);
        c_stage.push_back(sc.staging_s / opt.iters);
        d_total.push_back(td / opt.iters);
        c_total.push_back(tc / opt.iters);
      }
      r.dispatch_s = world.max_over_ranks(d);
      r.combine_s = world.max_over_ranks(cmb);
      r.dispatch_staging_s = world.max_over_ranks(d_stage);
      r.combine_staging_s = world.max_over_ranks(c_stage);
      r.dispatch_total_s = world.max_over_ranks(d_total);
      r.combine_total_s = world.max_over_ranks(c_total);
    }
    results.push_back(std::move(r));
    if (progress) progress(results.back().implementation, results.size(), which.size());
  }
  return results;
}

}  // namespace cobench::coll::ep
