// SPDX-License-Identifier: Apache-2.0
#include "topologies/analysis.h"

#include <fmt/format.h>

#include "topologies/analysis_out.h"
#include "topologies/analysis_sections.h"

namespace cobench::topo {

std::string SectionInputs::driven_by(const std::string& bound) const {
  std::string which;
  for (const std::string& input : inputs_of_bound(bound))
    for (const InputComparison& x : changed)
      if (x.input == input) which += (which.empty() ? "" : ", ") + input;
  return which.empty() ? std::string("datasheet values") : "measured " + which;
}

Analysis analyze(const ModelArch& m, const ClusterSpec& datasheet, const DecodeSetting& s,
                 const MeasuredInputs* measured, const MeasuredTables* tables) {
  Analysis a;
  a.report.title = fmt::format("{} on {}", m.name, datasheet.name);

  // Inputs: measured values replace the datasheet's; both are reported.
  ClusterSpec c = datasheet;
  std::vector<InputComparison> changed =
      measured ? apply_measured(c, *measured) : std::vector<InputComparison>{};
  if (tables) raise_fp8_peak(c, *tables, changed);
  SectionOut inputs(a, "inputs (measured values replace the datasheet's)", "inputs");
  inputs.json() = nlohmann::json::array();
  for (const InputComparison& in : changed) {
    inputs.json().push_back({{"input", in.input},
                             {"datasheet", in.datasheet},
                             {"measured", in.measured},
                             {"source", in.source},
                             {"used", "measured"}});
    const std::string unit = measured_input_unit(in.input);
    inputs.row(in.input,
               fmt::format("{}: datasheet {}, measured", in.input,
                           in.datasheet > 0 ? format_quantity(in.datasheet, unit)
                                            : std::string("not in the datasheet")),
               in.measured, unit, in.source);
  }

  const ParamBreakdown p = count_params(m);
  const SectionInputs in{m, c, s, p, changed, tables};
  memory_section(in, a);
  compute_section(in, a);
  const InferenceOutcome inference = inference_section(in, a);
  economics_section(in, inference, a);
  network_section(in, a);
  a.json["model"] = m.name;
  a.json["cluster"] = c.name;
  return a;
}

}  // namespace cobench::topo
