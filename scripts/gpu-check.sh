#!/usr/bin/env bash
# The prepared GPU check, run in one call on a lent GPU machine (one H200, sm_90):
#   builds the `gpu` preset (CUDA required, sm_90a) for what it runs, runs the GPU tests and the
#   native AVX-512 tests, runs the GPU benchmarks (then the CPU GEMM and MLA ones) within a time
#   budget that fits one device call, and writes what it measured under $OUT:
#     $OUT/gpu-check.log       the whole log
#     $OUT/ctest.xml           JUnit report of ctest
#     $OUT/sass-summary.txt    tensor-core and local-memory instructions per kernel (cuobjdump)
#     $OUT/sysinfo.json        a results file holding the node snapshot (GPU, clocks, driver)
#     $OUT/<bench>.json        one results file per benchmark binary (converted from gbench)
# Commit the JSON files under results/ with the session's note.
#
# The GPU machine has nvcc and CMake but no apt. Its missing C++ dependencies travel as Debian
# packages: first, here (with apt), run
#     ./scripts/gpu-check.sh --pack          # downloads the .deb files into .gpu-deps/
# then on the device:   carry [".gpu-deps"], command "OUT=$OUT ./scripts/gpu-check.sh"
# The script unpacks them into /tmp/cobench-deps (never into /) and points CMake there.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

# Debian 12 packages the build needs beyond a CUDA image (headers, libraries, CMake configs).
deps=(libfmt-dev libfmt9 libyaml-cpp-dev libyaml-cpp0.7 nlohmann-json3-dev libcli11-dev
      libhwloc-dev libhwloc15 libgtest-dev libgmock-dev libbenchmark-dev libbenchmark1debian
      pkgconf pkgconf-bin libpkgconf3 libsimde-dev)

if [[ "${1:-}" == "--pack" ]]; then
  mkdir -p .gpu-deps
  grep -qx '/.gpu-deps/' .git/info/exclude 2>/dev/null || echo '/.gpu-deps/' >>.git/info/exclude
  (cd .gpu-deps && apt-get download "${deps[@]}") || { echo "gpu-check: apt-get download failed" >&2; exit 1; }
  du -sh .gpu-deps
  exit 0
fi

: "${OUT:?set OUT to the directory for results (the device tool sets it)}"
mkdir -p "$OUT"
exec > >(tee "$OUT/gpu-check.log") 2>&1
echo "gpu-check: $(date -u +%FT%TZ) on $(hostname)"
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,temperature.gpu,clocks_throttle_reasons.active --format=csv 2>&1 || true

if [[ -d .gpu-deps ]]; then
  prefix=/tmp/cobench-deps
  mkdir -p "$prefix"
  for f in .gpu-deps/*.deb; do dpkg -x "$f" "$prefix"; done
  # The unpacked .pc files name /usr: point them at the prefix (a PKG_CONFIG_SYSROOT_DIR would
  # also move the paths of the machine's own .pc files, e.g. an OpenBLAS, that are not there).
  sed -i -E "s#^(prefix|exec_prefix|libdir|includedir)=/usr#\1=$prefix/usr#" \
    "$prefix"/usr/lib/x86_64-linux-gnu/pkgconfig/*.pc "$prefix"/usr/share/pkgconfig/*.pc
  export CMAKE_PREFIX_PATH="$prefix/usr:$prefix/usr/lib/x86_64-linux-gnu/cmake${CMAKE_PREFIX_PATH:+:$CMAKE_PREFIX_PATH}"
  export PKG_CONFIG_PATH="$prefix/usr/lib/x86_64-linux-gnu/pkgconfig:$prefix/usr/share/pkgconfig"
  export LD_LIBRARY_PATH="$prefix/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  export PATH="$prefix/usr/bin:$PATH"
  command -v pkg-config >/dev/null || ln -sf "$prefix/usr/bin/pkgconf" "$prefix/usr/bin/pkg-config"
fi

# One device call runs at most 600 s: everything below fits GPU_CHECK_BUDGET_S (default 520 s,
# counted from the script's start). The build is limited to what runs here; ctest runs the tests
# labelled gpu (the CUDA tests and GPU benchmark smoke tests) and avx512 (the native AVX-512
# kernels, where this host's CPU has them); the CPU-only suites run in CI. The benchmarks run GPU
# first, each under min(its limit, what the budget has left - 20 s), and are skipped (said so)
# when under 30 s remain.
budget=${GPU_CHECK_BUDGET_S:-520}
[[ "$budget" =~ ^[0-9]+$ ]] || {
  echo "gpu-check: GPU_CHECK_BUDGET_S must be a whole number of seconds, got '$budget'" >&2
  exit 2
}
left() { echo $((budget - SECONDS)); }
status=0
targets=(cobench cuda_check_tests gemm_cuda_tests mla_cuda_tests memory_cuda_tests kernels_cpu_tests
         mla_avx512_tests cobench_bench_mla_gpu cobench_bench_gemm_gpu cobench_bench_memory_gpu
         cobench_bench_gemm_cpu cobench_bench_mla_cpu)
cmake --preset gpu -DCOBENCH_WERROR=ON -DPKG_CONFIG_EXECUTABLE="$(command -v pkg-config)" || exit 1
cmake --build --preset gpu -j "$(nproc)" --target "${targets[@]}" || exit 1
echo "gpu-check: built in ${SECONDS} s; $(left) s of the budget left"
# Which tensor-core instructions each kernel compiled to (QGMMA: FP8 WGMMA, HGMMA: BF16 WGMMA,
# HMMA: mma.sync) and any local-memory traffic (LDL/STL: spills or dynamically indexed arrays), per
# kernel and architecture; "none" for a kernel with none of them.
cuobjdump=$(command -v cuobjdump || echo /usr/local/cuda/bin/cuobjdump)
if [[ ! -x "$cuobjdump" ]]; then
  echo "gpu-check: no cuobjdump on PATH or in /usr/local/cuda/bin: no SASS summary"
elif (for lib in build/gpu/kernels/libcobench_kernels_*cuda.a; do
        "$cuobjdump" --dump-sass "$lib" || exit 1
      done) >/tmp/cobench-sass.txt; then
  awk '/code for sm_/ { arch = $3 }
       /Function : / { f = $3 " [" arch "]"; fn[f] = 1 }
       f && match($0, /(QGMMA|HGMMA|HMMA|LDL|STL)[.[:space:]]/) {
         n[f, substr($0, RSTART, RLENGTH - 1)]++; any[f] = 1 }
       END { for (k in n) { split(k, p, SUBSEP); print p[1], p[2] "=" n[k] }
             for (f in fn) if (!(f in any)) print f, "none" }' /tmp/cobench-sass.txt |
    sort | { command -v c++filt >/dev/null && c++filt || cat; } >"$OUT/sass-summary.txt"
  echo "gpu-check: SASS instruction counts in $OUT/sass-summary.txt ($(wc -l <"$OUT/sass-summary.txt") lines)"
else
  echo "gpu-check: cuobjdump failed (its message is above): no SASS summary"
fi
ctest --preset gpu -L 'gpu|avx512' -j 4 --timeout "$(( $(left) > 60 ? $(left) - 30 : 30 ))" \
  --output-junit "$OUT/ctest.xml" || status=1
echo "gpu-check: tests done at ${SECONDS} s; $(left) s of the budget left"

cobench=build/gpu/apps/cobench/cobench
"$cobench" sysinfo
"$cobench" sysinfo --out "$OUT/sysinfo.json" >/dev/null || status=1

# Every benchmark binary: verified before timed inside each; gbench JSON converted on the spot.
# Each runs a chosen subset (the device time of a session is short) under a time limit.
for name in cobench_bench_mla_gpu cobench_bench_gemm_gpu cobench_bench_memory_gpu \
            cobench_bench_gemm_cpu cobench_bench_mla_cpu; do
  bench=build/gpu/microbench/$name
  [[ -x "$bench" ]] || continue
  backend=cuda
  limit=240
  args=(--benchmark_repetitions=3)
  case "$name" in
    # cobench's AVX-512 / AVX512_BF16 FP8 GEMM against OpenBLAS SGEMM on this host's CPU.
    *_gemm_cpu) backend=cpu; limit=90; args+=("--benchmark_filter=FmaPeak|m:2048/n:2048/k:2048") ;;
    *_mla_cpu) backend=cpu; limit=60; args+=("--benchmark_filter=FmaPeak|HostRead|batch:1/context:32768") ;;
    *_gemm_gpu) limit=400; args+=("--benchmark_filter=shape:square|m:4096/|AccumulatorProbe|GroupedFp8") ;;
    # Device copy and triad at 1 GiB, the two model inputs (copy at 4 GiB, pinned h2d at 1 GiB),
    # every direction and host memory kind at 256 MiB (not yet timed on a GPU).
    *_memory_gpu) limit=180; args+=("--benchmark_filter=op:(copy|triad)/mib:1024|model_input|HostDeviceCopy/.*/kib:262144/") ;;
    # The device copy, then the tensor-core kernel at 128 and 16 heads, batch 1 and 64 at 4K and
    # 32K, both caches, the SIMT kernel at batch 1, 32K, and the GQA/MHA baselines at batch 1 and
    # 64 where they fit 8 GiB (not yet timed on a GPU).
    *_mla_gpu) limit=300; args+=("--benchmark_filter=DeviceCopy|kernel:tc/.*batch:(1|64)/context:(4096|32768)/|kernel:simt/.*batch:1/context:32768/|GqaDecodeGpu/.*batch:(1|64)/context:(4096|32768)/") ;;
  esac
  room=$(( $(left) - 20 ))
  if (( room < 30 )); then
    echo "gpu-check: skip $name: $(left) s of the budget left"
    continue
  fi
  (( limit > room )) && limit=$room
  echo "gpu-check: $name for at most $limit s (${args[*]})"
  timeout "$limit" "$bench" "${args[@]}" --benchmark_out="/tmp/$name.gbench.json" \
    --benchmark_out_format=json || status=1
  "$cobench" results from-gbench "/tmp/$name.gbench.json" -o "$OUT/$name.json" \
    --suite "${name#cobench_bench_}" --backend "$backend" || status=1
done
nvidia-smi --query-gpu=clocks.sm,temperature.gpu,clocks_throttle_reasons.active --format=csv 2>&1 || true
echo "gpu-check: finished with status $status after ${SECONDS} s"
exit $status
