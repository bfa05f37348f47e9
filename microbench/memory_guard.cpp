// SPDX-License-Identifier: Apache-2.0
#include "microbench/memory_guard.h"

#include <fmt/format.h>
#include <unistd.h>

namespace cobench::bench {

double physical_memory_bytes() {
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  return pages > 0 && page > 0 ? static_cast<double>(pages) * static_cast<double>(page) : 0.0;
}

std::string exceeds_half_of_memory(double bytes, const std::string& what) {
  const double physical = physical_memory_bytes();
  if (physical <= 0 || bytes <= physical / 2) return "";
  return fmt::format(
      "not run: {} needs {:.1f} GiB, more than half of the {:.1f} GiB of physical "
      "memory",
      what, bytes / (1 << 30), physical / (1 << 30));
}

}  // namespace cobench::bench
