// SPDX-License-Identifier: Apache-2.0
// Default sanitizer settings compiled into the executables of the asan preset, so that every
// way of running them (ctest, test.sh, by hand) behaves the same without environment variables.
// Leak suppressions name third-party code only, each with its reason.

extern "C" const char* __asan_default_options() {
  // Full unwinding so suppressions can match frames below libraries unloaded before exit.
  // intercept_tls_get_addr=0: GCC 12's runtime (and GCC <= 13, LLVM <= 16) takes a dynamic TLS
  // block whose start lies 16 bytes into a page for a glibc <= 2.18 block with a header, and
  // reads the two words before it as that block's bounds. Since glibc 2.25 there is no header, so
  // a block that lands there by chance hands LeakSanitizer's tracer a garbage range: "Tracer
  // caught signal 11" at exit, after every test passed (Mpi.collectives.np8 in CI, 2026-12: five
  // of eight ranks at once). Our code uses no dynamic TLS; static TLS is still scanned.
  return "detect_leaks=1:fast_unwind_on_malloc=0:abort_on_error=1:intercept_tls_get_addr=0";
}

extern "C" const char* __lsan_default_options() { return "print_suppressions=0"; }

extern "C" const char* __ubsan_default_options() { return "print_stacktrace=1:halt_on_error=1"; }

extern "C" const char* __lsan_default_suppressions() {
  return
      // hwloc's PCI plugin (libpciaccess) leaks about 1 KiB per topology load; the plugin is
      // unloaded before exit, so the leak is matched by the hwloc frame still mapped.
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
