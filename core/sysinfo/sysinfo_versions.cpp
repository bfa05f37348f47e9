// SPDX-License-Identifier: Apache-2.0
// Versions of MPI, OpenBLAS and the compiler, read from the libraries themselves where they
// can tell (MPI_Get_library_version may be called before MPI_Init).
#include <fmt/format.h>

#include "core/sysinfo/sysinfo.h"

#if defined(COBENCH_HAVE_MPI) && COBENCH_HAVE_MPI
#include <mpi.h>
#endif
#if defined(COBENCH_HAVE_OPENBLAS) && COBENCH_HAVE_OPENBLAS
#include <cblas.h>
#endif

namespace cobench::sysinfo {

void discover_versions(NodeInfo& n) {
  n.versions["compiler"] = fmt::format("gcc-compatible {}", __VERSION__);
#if defined(COBENCH_HAVE_MPI) && COBENCH_HAVE_MPI
  char mpi[MPI_MAX_LIBRARY_VERSION_STRING] = {};
  int length = 0;
  if (MPI_Get_library_version(mpi, &length) == MPI_SUCCESS) {
    std::string v(mpi, static_cast<size_t>(length));
    if (auto nl = v.find_first_of("\n,"); nl != std::string::npos) v.resize(nl);
    n.versions["mpi"] = v;
  }
#else
  n.versions["mpi"] = "not built";
#endif
#if defined(COBENCH_HAVE_OPENBLAS) && COBENCH_HAVE_OPENBLAS
  std::string config = openblas_get_config();
  while (!config.empty() && config.back() == ' ') config.pop_back();
  n.versions["openblas"] = config;
#else
  n.versions["openblas"] = "not built";
#endif
}

}  // namespace cobench::sysinfo
