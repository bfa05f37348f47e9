// SPDX-License-Identifier: Apache-2.0
// A traffic matrix from a file for the fabric simulator (fabric_flows.h): one flow a line,
//   SRC DST BYTES
// SRC and DST GPU ids (0 to the simulated GPUs - 1, node by node as the fabric graph numbers
// them), BYTES a number of bytes or a size with a unit as --bytes takes it (64MiB, 1.5GB), a
// whole number of bytes >= 1; fields split by spaces or tabs; '#' starts a comment to the end of
// the line; blank lines are skipped. All flows start together, as one phase. Errors name
// file:line:column.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "topologies/fabric_flows.h"

namespace cobench::topo {

/// The flows of traffic-matrix text; `name` is the file name used in messages. Throws
/// cobench::Error at file:line:column for a line without three fields, a GPU id that is not a
/// whole number from 0 to gpus - 1, a flow from a GPU to itself, or a size that is not a whole
/// number of bytes >= 1; and for text without flows.
std::vector<Flow> parse_traffic(std::string_view text, const std::string& name, std::int32_t gpus);
/// The same from a file, its name in messages as printable() shows it.
std::vector<Flow> load_traffic_file(const std::string& path, std::int32_t gpus);

/// Text as a message or a report shows it: bytes outside printable ASCII (a space included) as
/// \xNN, at most `most` bytes of it, then how many there were. A NUL, ESC or byte order mark
/// printed raw cut or hid the message.
std::string printable(std::string_view text, std::size_t most = 64);

/// The flows as one phase: kind kMatrix, one group, size = the most bytes one GPU sends (an
/// all-to-all's send buffer, so algbw = that / time; busbw = algbw), ranks = the GPUs that send
/// or receive.
Collective traffic_matrix(std::vector<Flow> flows);

}  // namespace cobench::topo
