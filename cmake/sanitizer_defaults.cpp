// SPDX-License-Identifier: Apache-2.0
// Default sanitizer settings compiled into the executables of the asan preset, so that every
// way of running them (ctest, test.sh, by hand) behaves the same without environment variables.
// Leak suppressions name third-party code only, each with its reason.

#include <dlfcn.h>

// Unwinding of every allocation's stack: the fast frame-pointer walk, except in the executables
// that start Open MPI (COBENCH_SANITIZER_MPI, cobench_sanitizer_defaults_mpi). Open MPI 4.1 unloads
// its components at MPI_Finalize and has no setting that keeps them, so what they leave is
// reported from frames that no longer have a module; its suppressions (below) then match only
// through the frames of libmpi and its kin further down the stack, which the frame-pointer walk
// cannot reach through Debian's libraries (built without frame pointers). Elsewhere the full
// unwinder only costs time: `cobench_bench_model --benchmark_filter='BM_Analyze$'` takes 0.63 s
// with it and 0.05 s without (asan build, 2-core VM).
// intercept_tls_get_addr=0: GCC 12's runtime (and GCC <= 13, LLVM <= 16) takes a dynamic TLS
// block whose start lies 16 bytes into a page for a glibc <= 2.18 block with a header, and
// reads the two words before it as that block's bounds. Since glibc 2.25 there is no header, so
// a block that lands there by chance hands LeakSanitizer's tracer a garbage range: "Tracer
// caught signal 11" at exit, after every test passed (Mpi.collectives.np8 in CI, 2026-12: five
// of eight ranks at once). Our code uses no dynamic TLS; static TLS is still scanned.
extern "C" const char* __asan_default_options() {
#ifdef COBENCH_SANITIZER_MPI
  return "detect_leaks=1:fast_unwind_on_malloc=0:abort_on_error=1:intercept_tls_get_addr=0";
#else
  return "detect_leaks=1:fast_unwind_on_malloc=1:abort_on_error=1:intercept_tls_get_addr=0";
#endif
}

// hwloc's PCI plugin keeps libpciaccess's state (about 1 KiB) in libpciaccess's globals and
// unloads both when the last topology is destroyed, before exit: that memory then looks leaked,
// from frames of an unmapped module. Loaded here with RTLD_NODELETE, libpciaccess stays mapped,
// so its globals still reach the memory at exit and nothing is reported. Where it is not
// installed, hwloc has no PCI plugin to load either.
__attribute__((constructor)) static void keep_libpciaccess_mapped() {
  dlopen("libpciaccess.so.0", RTLD_LAZY | RTLD_NODELETE);
}

extern "C" const char* __lsan_default_options() { return "print_suppressions=0"; }

extern "C" const char* __ubsan_default_options() { return "print_stacktrace=1:halt_on_error=1"; }

extern "C" const char* __lsan_default_suppressions() {
  return
      // hwloc's PCI plugin, where libpciaccess could not be kept mapped (another soname):
      // matched by the hwloc frame still mapped, under the full unwinder.
      "leak:hwloc_topology_load\n"
      // Open MPI keeps its runtime's allocations past MPI_Finalize by design.
      "leak:libmpi.so\n"
      "leak:libopen-pal.so\n"
      "leak:libopen-rte.so\n"
      "leak:libpmix.so\n"
      // ... and its PMIx progress thread, in an MCA component unloaded at MPI_Finalize, leaves
      // allocations made from libevent callbacks: only the libevent frames remain symbolized.
      "leak:libevent_core\n";
}
