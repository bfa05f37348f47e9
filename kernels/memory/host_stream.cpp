// SPDX-License-Identifier: Apache-2.0
#include "kernels/memory/host_stream.h"

#include <fmt/format.h>
#include <hwloc.h>

#include <algorithm>
#include <barrier>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <optional>
#include <thread>
#include <vector>

#include "core/error.h"
#include "core/pass_clock.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace cobench::memory {
namespace {

constexpr std::int64_t kPageDoubles = 4096 / 8;

struct Slice {
  double *a = nullptr, *b = nullptr, *c = nullptr, *w = nullptr;
  bool from_hwloc = false;        // fresh pages from hwloc_alloc (freed with hwloc_free)
  std::int64_t n = 0, first = 0;  // elements, global index of the first
  double sum = 0;                 // the last read pass's result
};

double read_portable(const double* a, std::int64_t n) {
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  for (std::int64_t i = 0; i < n; i += 4)
    s0 += a[i], s1 += a[i + 1], s2 += a[i + 2], s3 += a[i + 3];
  return (s0 + s1) + (s2 + s3);
}
void write_portable(double* w, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) w[i] = 3.0;
}
void triad_portable(const double* a, const double* b, double* c, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) c[i] = a[i] + 3.0 * b[i];
}

#if defined(__x86_64__)
#define COBENCH_AVX2 __attribute__((target("avx2,fma")))
// n is a multiple of 512 and every array 4 KiB aligned.
COBENCH_AVX2 double read_avx2(const double* a, std::int64_t n) {
  __m256d s[4] = {_mm256_setzero_pd(), _mm256_setzero_pd(), _mm256_setzero_pd(),
                  _mm256_setzero_pd()};
  for (std::int64_t i = 0; i < n; i += 16)
    for (int k = 0; k < 4; ++k) s[k] = _mm256_add_pd(s[k], _mm256_load_pd(a + i + 4 * k));
  alignas(32) double part[4];
  _mm256_store_pd(part, _mm256_add_pd(_mm256_add_pd(s[0], s[1]), _mm256_add_pd(s[2], s[3])));
  return (part[0] + part[1]) + (part[2] + part[3]);
}
COBENCH_AVX2 void write_avx2(double* w, std::int64_t n) {
  const __m256d v = _mm256_set1_pd(3.0);
  for (std::int64_t i = 0; i < n; i += 4) _mm256_stream_pd(w + i, v);
  _mm_sfence();
}
COBENCH_AVX2 void triad_avx2(const double* a, const double* b, double* c, std::int64_t n) {
  const __m256d three = _mm256_set1_pd(3.0);
  for (std::int64_t i = 0; i < n; i += 4)
    _mm256_stream_pd(c + i, _mm256_fmadd_pd(three, _mm256_load_pd(b + i), _mm256_load_pd(a + i)));
  _mm_sfence();
}
COBENCH_AVX2 void copy_nt_avx2(double* c, const double* a, std::int64_t n) {
  for (std::int64_t i = 0; i < n; i += 16)
    for (int k = 0; k < 4; ++k) _mm256_stream_pd(c + i + 4 * k, _mm256_load_pd(a + i + 4 * k));
  _mm_sfence();
}
void copy_rep_movsb(double* c, const double* a, std::int64_t n) {
  void* d = c;
  const void* s = a;
  std::size_t bytes = static_cast<std::size_t>(n) * sizeof(double);
  asm volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(bytes) : : "memory");
}
#endif

void copy_with(CopyMethod m, double* c, const double* a, std::int64_t n) {
#if defined(__x86_64__)
  if (m == CopyMethod::kRepMovsb) return copy_rep_movsb(c, a, n);
  if (m == CopyMethod::kNonTemporal) return copy_nt_avx2(c, a, n);
#else
  (void)m;
#endif
  std::memcpy(c, a, static_cast<size_t>(n) * sizeof(double));
}

// The read, write and triad passes of one instruction set (copy: copy_with).
struct StreamKernels {
  double (*read)(const double* a, std::int64_t n);
  void (*write)(double* w, std::int64_t n);
  void (*triad)(const double* a, const double* b, double* c, std::int64_t n);
};

StreamKernels stream_kernels(bool avx2) {
#if defined(__x86_64__)
  if (avx2) return {read_avx2, write_avx2, triad_avx2};
#else
  (void)avx2;
#endif
  return {read_portable, write_portable, triad_portable};
}

bool have_avx2() {
#if defined(__x86_64__)
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return false;
#endif
}

enum class Job { kInit, kRun, kClear, kStop };

}  // namespace

const char* stream_op_name(StreamOp op) {
  switch (op) {
    case StreamOp::kRead:
      return "read";
    case StreamOp::kWrite:
      return "write";
    case StreamOp::kCopy:
      return "copy";
    case StreamOp::kTriad:
      return "triad";
  }
  return "?";
}

std::int64_t stream_bytes_per_element(StreamOp op) {
  switch (op) {
    case StreamOp::kRead:
    case StreamOp::kWrite:
      return 8;
    case StreamOp::kCopy:
      return 16;
    case StreamOp::kTriad:
      return 24;
  }
  return 0;
}

// membind_errno of a worker that had no topology or NUMA node set to bind to.
constexpr int kMembindNotTried = -1;

struct HostStream::Impl {
  int threads = 1;
  bool avx2 = have_avx2();
  std::string pinned, placement;
  hwloc_topology_t topo = nullptr;
  int cores = 0;
  std::vector<Slice> slices;
  std::vector<std::thread> workers;
  std::barrier<> start, done;
  Job job = Job::kInit;
  StreamOp op = StreamOp::kRead;
  CopyMethod copy = CopyMethod::kMemcpy;
  std::string copy_choice;          // empty until chosen or set
  std::vector<std::string> errors;  // per worker, from the init job
  // Per worker, written by the worker before the init job, read after it: 0 when its bind
  // succeeded, else the errno of the failure.
  std::vector<int> pin_errno;
  // Per worker, as pin_errno: 0 when its slice's pages were bound to its core's NUMA node
  // (hwloc_set_area_membind before the first touch), else the errno of the failure.
  std::vector<int> membind_errno;
  int numa_nodes = 0;
  // Each worker's clock readings around its last pass: run() times the pass from the first start
  // to the last end, not the barriers' wake-ups around it (core/pass_clock.h).
  PassClock clock;

  explicit Impl(int n)
      : threads(n),
        slices(static_cast<size_t>(n)),
        start(n + 1),
        done(n + 1),
        errors(static_cast<size_t>(n)),
        pin_errno(static_cast<size_t>(n), 0),
        membind_errno(static_cast<size_t>(n), kMembindNotTried),
        clock(n) {}
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  // Stops and joins the workers (waiting at the start barrier), frees the arrays.
  ~Impl() {
    job = Job::kStop;
    if (!workers.empty()) start.arrive_and_wait();
    for (auto& t : workers) t.join();
    for (Slice& s : slices)
      for (double* p : {s.a, s.b, s.c, s.w}) {
        if (p && s.from_hwloc)
          hwloc_free(topo, p, static_cast<size_t>(s.n) * sizeof(double));
        else
          std::free(p);
      }
    if (topo) hwloc_topology_destroy(topo);
  }

  void pin(int id) {
    if (!topo || cores == 0) return;
    int& error = pin_errno[static_cast<size_t>(id)];
    hwloc_obj_t core = hwloc_get_obj_by_type(topo, HWLOC_OBJ_CORE, id % cores);
    if (!core || !core->cpuset)
      error = ENODEV;
    else if (hwloc_set_cpubind(topo, core->cpuset, HWLOC_CPUBIND_THREAD) != 0)
      error = errno != 0 ? errno : EINVAL;
  }

  // Binds the slice's arrays to the NUMA node(s) of the worker's core, before the first touch
  // places their pages (where the kernel refuses, e.g. mbind blocked in a container, first touch
  // by the pinned owner still places them there).
  void bind_memory(int id, const Slice& s, size_t bytes) {
    int& error = membind_errno[static_cast<size_t>(id)];
    if (!topo || cores == 0) return;
    hwloc_obj_t core = hwloc_get_obj_by_type(topo, HWLOC_OBJ_CORE, id % cores);
    if (!core || !core->nodeset) return;
    error = 0;
    for (double* p : {s.a, s.b, s.c, s.w})
      if (error == 0 && hwloc_set_area_membind(topo, p, bytes, core->nodeset, HWLOC_MEMBIND_BIND,
                                               HWLOC_MEMBIND_BYNODESET) != 0)
        error = errno != 0 ? errno : EINVAL;
  }

  void clear(int id) {
    Slice& s = slices[static_cast<size_t>(id)];
    constexpr double kNan = std::numeric_limits<double>::quiet_NaN();
    s.sum = kNan;
    for (double* p : {s.c, s.w})
      if (p) std::fill(p, p + s.n, kNan);
  }

  void init(int id, std::int64_t n, std::int64_t first) {
    Slice& s = slices[static_cast<size_t>(id)];
    s.n = n, s.first = first;
    const size_t bytes = static_cast<size_t>(n) * sizeof(double);
    // Fresh pages (hwloc_alloc maps them) that no earlier stream touched, so the binding
    // below decides where they go; aligned_alloc without a topology.
    s.from_hwloc = topo != nullptr;
    for (double** p : {&s.a, &s.b, &s.c, &s.w}) {
      *p = static_cast<double*>(s.from_hwloc ? hwloc_alloc(topo, bytes)
                                             : std::aligned_alloc(4096, bytes));
      if (!*p) {
        errors[static_cast<size_t>(id)] = fmt::format("cannot allocate {} bytes", bytes);
        return;
      }
    }
    bind_memory(id, s, bytes);
    for (std::int64_t i = 0; i < n; ++i) {  // first touch, by the pinned owner
      s.a[i] = static_cast<double>((first + i) % 1021);
      s.b[i] = static_cast<double>((first + i) % 997);
      s.c[i] = s.w[i] = 0.0;
    }
  }

  void pass(int id) {
    Slice& s = slices[static_cast<size_t>(id)];
    if (!s.w) return;
    const StreamKernels k = stream_kernels(avx2);
    switch (op) {
      case StreamOp::kRead:
        s.sum = k.read(s.a, s.n);
        return;
      case StreamOp::kWrite:
        k.write(s.w, s.n);
        return;
      case StreamOp::kCopy:
        copy_with(copy, s.c, s.a, s.n);
        return;
      case StreamOp::kTriad:
        k.triad(s.a, s.b, s.c, s.n);
        return;
    }
  }

  void worker(int id, std::int64_t n, std::int64_t first) {
    pin(id);
    for (;;) {
      start.arrive_and_wait();
      if (job == Job::kStop) return;
      if (job == Job::kInit)
        init(id, n, first);
      else if (job == Job::kClear)
        clear(id);
      else {
        clock.begin(id);
        pass(id);
        clock.end(id);
      }
      done.arrive_and_wait();
    }
  }
};

HostStream::HostStream(std::size_t bytes_per_array, int threads) {
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const std::int64_t per_thread = static_cast<std::int64_t>(bytes_per_array / sizeof(double)) /
                                  threads / kPageDoubles * kPageDoubles;
  COBENCH_CHECK(per_thread > 0, fmt::format("{} bytes per array is less than a 4 KiB page for "
                                            "each of {} threads",
                                            bytes_per_array, threads));
  impl_ = std::make_unique<Impl>(threads);
  if (hwloc_topology_init(&impl_->topo) == 0 && hwloc_topology_load(impl_->topo) == 0) {
    impl_->cores = hwloc_get_nbobjs_by_type(impl_->topo, HWLOC_OBJ_CORE);
    if (impl_->cores == 0) impl_->pinned = "not pinned (hwloc found no cores)";
  } else {
    if (impl_->topo) hwloc_topology_destroy(impl_->topo);
    impl_->topo = nullptr;
    impl_->pinned = "not pinned (hwloc could not load the topology)";
  }
  for (int i = 0; i < threads; ++i)
    impl_->workers.emplace_back(&Impl::worker, impl_.get(), i, per_thread, per_thread * i);
  impl_->job = Job::kInit;
  impl_->start.arrive_and_wait();
  impl_->done.arrive_and_wait();
  for (const std::string& e : impl_->errors)
    if (!e.empty()) {
      impl_.reset();  // joins the workers and frees what was allocated
      COBENCH_THROW(e);
    }
  if (impl_->pinned.empty())  // every worker tried to bind; the barriers ordered its result
    impl_->pinned = describe_pinning(impl_->cores, impl_->pin_errno);
  if (impl_->topo)
    impl_->numa_nodes = std::max(1, hwloc_get_nbobjs_by_type(impl_->topo, HWLOC_OBJ_NUMANODE));
  impl_->placement = describe_placement(impl_->numa_nodes, impl_->membind_errno);
}

std::string describe_placement(int numa_nodes, const std::vector<int>& membind_errno) {
  const int threads = static_cast<int>(membind_errno.size());
  int failed = 0, first_errno = 0;
  for (int e : membind_errno) {
    if (e < 0) return "memory placed by first touch (no hwloc NUMA node set to bind to)";
    if (e != 0 && failed++ == 0) first_errno = e;
  }
  if (failed == 0)
    return fmt::format("memory bound to each worker's NUMA node ({} node{}, hwloc)", numa_nodes,
                       numa_nodes == 1 ? "" : "s");
  return fmt::format(
      "memory placed by first touch (hwloc_set_area_membind failed for {} of {} "
      "threads: {})",
      failed, threads, std::strerror(first_errno));
}

std::string describe_pinning(int cores, const std::vector<int>& bind_errno) {
  const int threads = static_cast<int>(bind_errno.size());
  int failed = 0, first_errno = 0;
  for (int e : bind_errno)
    if (e != 0 && failed++ == 0) first_errno = e;
  return failed == 0
             ? fmt::format("pinned to {} of {} cores (hwloc)", std::min(threads, cores), cores)
             : fmt::format("not pinned: hwloc_set_cpubind failed for {} of {} threads ({})", failed,
                           threads, std::strerror(first_errno));
}

HostStream::~HostStream() = default;

void HostStream::clear_outputs() {
  impl_->job = Job::kClear;
  impl_->start.arrive_and_wait();
  impl_->done.arrive_and_wait();
}

double HostStream::run(StreamOp op) {
  if (op == StreamOp::kCopy && impl_->copy_choice.empty()) choose_copy_method();
  return pass(op);
}

double HostStream::pass(StreamOp op) {
  impl_->job = Job::kRun;
  impl_->op = op;
  impl_->start.arrive_and_wait();
  impl_->done.arrive_and_wait();  // orders the workers' clock readings before this read
  return impl_->clock.seconds();
}

// Each method the CPU runs, timed over two passes, the first verified on outputs cleared before
// it (a method that wrote nothing would otherwise pass on the previous method's copy): the
// fastest that verified stays; one that fails verification is left out and named.
void HostStream::choose_copy_method() {
  const double bytes = static_cast<double>(elements()) * sizeof(double);
  std::optional<CopyMethod> best;
  double best_rate = 0;
  std::string rates, failed;
  for (CopyMethod m : copy_methods()) {
    impl_->copy = m;
    clear_outputs();
    double seconds = pass(StreamOp::kCopy);
    if (const std::string error = verify(StreamOp::kCopy); !error.empty()) {
      failed += fmt::format("; {} left out: {}", copy_method_name(m), error);
      continue;
    }
    seconds = std::min(seconds, pass(StreamOp::kCopy));
    const double rate = seconds > 0 ? bytes / seconds : 0;
    rates += fmt::format("{}{} {:.2f}", rates.empty() ? "" : ", ", copy_method_name(m), rate / 1e9);
    if (!best || rate > best_rate) best = m, best_rate = rate;
  }
  COBENCH_CHECK(best.has_value(), "no copy method verified" + failed);
  impl_->copy = *best;
  impl_->copy_choice = fmt::format(
      "{}, the fastest of {} GB/s copied (best of 2 passes each, "
      "verified){}",
      copy_method_name(*best), rates, failed);
}

void HostStream::set_copy_method(CopyMethod m) {
  const std::vector<CopyMethod> ok = copy_methods();
  COBENCH_CHECK(std::find(ok.begin(), ok.end(), m) != ok.end(),
                fmt::format("copy method {} does not run on this CPU", copy_method_name(m)));
  impl_->copy = m;
  impl_->copy_choice = fmt::format("{} (set)", copy_method_name(m));
}

CopyMethod HostStream::copy_method() const { return impl_->copy; }

const std::string& HostStream::copy_choice() const { return impl_->copy_choice; }

const char* copy_method_name(CopyMethod m) {
  switch (m) {
    case CopyMethod::kMemcpy:
      return "memcpy";
    case CopyMethod::kRepMovsb:
      return "rep movsb";
    case CopyMethod::kNonTemporal:
      return "avx2 non-temporal";
  }
  return "?";
}

std::vector<CopyMethod> copy_methods() {
  std::vector<CopyMethod> m = {CopyMethod::kMemcpy};
#if defined(__x86_64__)
  m.push_back(CopyMethod::kRepMovsb);
  if (have_avx2()) m.push_back(CopyMethod::kNonTemporal);
#endif
  return m;
}

std::string HostStream::verify(StreamOp op) const {
  for (const Slice& s : impl_->slices) {
    if (op == StreamOp::kRead) {
      double want = 0;
      for (std::int64_t i = 0; i < s.n; ++i) want += static_cast<double>((s.first + i) % 1021);
      if (s.sum != want)  // exact: integers below 2^53
        return fmt::format("read sum {} where {} was expected", s.sum, want);
      continue;
    }
    for (std::int64_t i = 0; i < s.n; ++i) {
      const double a = static_cast<double>((s.first + i) % 1021),
                   b = static_cast<double>((s.first + i) % 997);
      const double got = op == StreamOp::kWrite ? s.w[i] : s.c[i];
      const double want = op == StreamOp::kWrite ? 3.0 : op == StreamOp::kCopy ? a : a + 3.0 * b;
      if (got != want)
        return fmt::format("{}: element {} is {}, expected {}", stream_op_name(op), s.first + i,
                           got, want);
    }
  }
  return "";
}

std::int64_t HostStream::bytes_per_pass(StreamOp op) const {
  return elements() * stream_bytes_per_element(op);
}

int HostStream::threads() const { return impl_->threads; }

std::int64_t HostStream::elements() const {
  std::int64_t n = 0;
  for (const Slice& s : impl_->slices) n += s.n;
  return n;
}

const std::string& HostStream::pinned() const { return impl_->pinned; }

const std::string& HostStream::placement() const { return impl_->placement; }

const char* HostStream::kernel() const { return impl_->avx2 ? "avx2 non-temporal" : "portable"; }

double measure_read_bandwidth(std::size_t bytes, int passes, int threads) {
  HostStream s(bytes, threads);
  s.run(StreamOp::kRead);  // warm up
  double best = 0;
  for (int i = 0; i < passes; ++i) {
    const double t = s.run(StreamOp::kRead);
    const std::string error = s.verify(StreamOp::kRead);
    COBENCH_CHECK(error.empty(), error);
    best = std::max(best, static_cast<double>(s.bytes_per_pass(StreamOp::kRead)) / t);
  }
  return best;
}

}  // namespace cobench::memory
