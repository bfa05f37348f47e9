// SPDX-License-Identifier: Apache-2.0
// The characters a text that cobench reads (a name in a cluster or model file, any string of a
// results file) may not hold, because cobench prints such text to terminals and into reports: the
// C0 controls (newline, ESC, BEL, ...), DEL, the C1 controls, and the marks a terminal or
// renderer obeys though they show nothing: left-to-right and right-to-left marks (U+200E/F), the
// line and paragraph separators (U+2028/9), the bidirectional embeddings and overrides
// (U+202A-E) and isolates (U+2066-9). A newline in a benchmark name forges a line of `compare`'s
// table; ESC starts a terminal escape; U+202E reverses what follows. The readers refuse them
// (config::Node::as_string, parse_json_strict; scripts/cobench_results.py the same set), so no
// report has to escape them. Malformed UTF-8 is the readers' other concern, not this one's.
#pragma once

#include <string>
#include <string_view>

namespace cobench {

/// The first such character of UTF-8 `text` as "U+001B" (with its byte offset in `offset`);
/// empty when there is none.
std::string first_control_character(std::string_view text, std::size_t* offset = nullptr);

}  // namespace cobench
