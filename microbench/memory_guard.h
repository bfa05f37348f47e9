// SPDX-License-Identifier: Apache-2.0
// The CPU benchmarks' guard against configurations that would not fit: a benchmark whose buffers
// need more than half of physical memory reports that as its error instead of running (and
// being killed mid-run, which would lose the whole run's results).
#pragma once

#include <string>

namespace cobench::bench {

/// Bytes of physical memory, or 0 where sysconf cannot tell.
double physical_memory_bytes();

/// "" when `bytes` fit in half of physical memory (or its size is unknown); else "not run: <what>
/// needs X GiB, more than half of the Y GiB of physical memory".
std::string exceeds_half_of_memory(double bytes, const std::string& what);

}  // namespace cobench::bench
