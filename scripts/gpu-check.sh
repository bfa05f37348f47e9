#!/usr/bin/env bash
# The prepared GPU check: one call on a lent GPU machine (an H100 or H200, sm_90, no .git, no
# network, no apt) that builds the `gpu` preset for what it runs, then runs, in order of value and
# each under its own time cap: the GPU tests (ctest labels gpu and avx512), the tensor-core
# accumulator probe, the GEMM benchmarks (cuBLASLt block-scaled FP8 against cobench's WGMMA kernel
# at 4096^3), the SASS summary, then MLA decode, device memory and GQA with narrow filters and one
# repetition. Every step keeps what it finished, also when it is killed at its cap (a benchmark's
# cut-off Google Benchmark JSON is salvaged by scripts/gbench_salvage.py). Whatever the call ran
# into, $OUT holds at most 7 files:
#     gpu-check.log     the whole log; the step table (status, seconds, cap) at its end
#     ctest.xml         JUnit report of the GPU and AVX-512 tests
#     sysinfo.json      results file holding the node snapshot (GPU, clocks, driver)
#     gemm_gpu.json     results file: accumulator probe + GEMMs
#     mla_gpu.json      results file: MLA decode + GQA/MHA baselines
#     memory_gpu.json   results file: device streams + host<->device copies
#     extras.tar.gz     env.txt, summary.txt, configure/build logs, SASS summary, ctest's
#                       LastTest.log, salvaged gbench JSON, results of the CPU benchmarks
# File each call's results with `scripts/import_results.py --machine <machine> <files folder>`
# (both calls return the same names; it names each file by its own time and host and never
# overwrites) and commit them with the session's note.
#
# THE DEVICE CALL (the README says the same). Here, right before it (downloads only what is
# missing; records the commit, which the device copy cannot read without .git):
#     ./scripts/gpu-check.sh --pack
# Call 1:  run(command="./scripts/gpu-check.sh", carry=[".gpu-deps"], timeout_s=420)
#   The script stops itself within GPU_CHECK_BUDGET_S=390 s. With the 1-2 min start and the
#   30 s warm wait (give_back at once when no call 2 follows) it uses at most ~9.5 of the 15
#   device minutes, so more than 5 are left and a fresh machine could still start (4 needed).
# Call 2 (optional: the model's GEMM table first (cuBLASLt's block-scaled FP8 on DeepSeek-V3's
# shapes at M 64, 512 and 4096 and on training's input-gradient shapes at 4096: the gpu.gemm_fp8
# records `cobench analyze --measured` times GEMMs from), then, as far as the budget goes (the
# steps after mla_wide are usually cut), the wider MLA, GEMM and memory filters and the CPU
# GEMM/MLA benchmarks; only
# straight after call 1, while status says warm: true and budget_left_s >= 270, so that it reuses
# the build and needs no start):
#          run(command="GPU_CHECK_STEPS=second GPU_CHECK_BUDGET_S=200 ./scripts/gpu-check.sh",
#              carry=[".gpu-deps"], timeout_s=230)
#   then give_back.
#
# Modes:
#   --pack       download the Debian 12 packages the build needs beyond the CUDA image into
#                .gpu-deps/ (apt-get download; only the missing ones), write .gpu-deps/COMMIT and
#                .gpu-deps/tree.sha256 (the working tree the commit describes)
#   --dry-run    the whole script here, without a GPU (CI runs it): packs what is missing,
#                configures the gpu preset against the packed dependencies only (CMake's system
#                paths and pkg-config's default directories removed; every header and library the
#                build used is checked to come from the pack, the CUDA toolkit or the base C/C++
#                runtime), builds the least that compiles, links and runs every packed dependency
#                (cuda_check_tests, kernels_cpu_tests, cobench_bench_memory, one CLI11 object),
#                borrowing cobench from COBENCH_BIN or build/default when there is one, runs the
#                steps (device ones say "skip"; cobench_bench_memory stands in for a benchmark and
#                is killed at a 5 s cap on purpose: what it finished must come back), and checks the
#                $OUT rules (files <= 8, each <= 16 MiB, <= 64 MiB in all, <= 2 folders deep,
#                names [A-Za-z0-9._-]), what travels (<= 64 MiB), the commit the build names, and
#                the call's time plan. Options: --out DIR (default build/gpucheck-dry/out; must be
#                empty), -j N, --full-build (every device target too, CUDA kernels included; the
#                GPU benchmarks then run their no-device entry; build/gpucheck-dry-full).
# Settings: GPU_CHECK_BUDGET_S (default 390), GPU_CHECK_STEPS ("first" = tests probe gemm sass
#   mla memory gqa, the default; "second" = gemm_model mla_wide gemm_wide memory_wide gemm_cpu
#   mla_cpu; or
#   step names), COBENCH_GIT_COMMIT (else .gpu-deps/COMMIT).
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

# The call's time plan (checked by --dry-run): device minutes, start, warm wait.
readonly CALL_TIMEOUT_S=420 CALL_BUDGET_S=390 DEVICE_S=900 START_S=120 WARM_S=30 KEEP_S=300
readonly FIRST_STEPS="tests probe gemm sass mla memory gqa"
readonly SECOND_STEPS="gemm_model mla_wide gemm_wide memory_wide gemm_cpu mla_cpu"

# Debian 12 packages the build needs beyond the CUDA image (headers, libraries, CMake configs,
# pkg-config), OpenBLAS (the CPU baseline) included.
deps=(libfmt-dev libfmt9 libyaml-cpp-dev libyaml-cpp0.7 nlohmann-json3-dev libcli11-dev
      libhwloc-dev libhwloc15 libgtest-dev libgmock-dev libbenchmark-dev libbenchmark1debian
      pkgconf pkgconf-bin libpkgconf3 libsimde-dev libopenblas-pthread-dev libopenblas0-pthread)
# Runtime libraries those need that a machine usually has: unpacked apart and put on the library
# path only where the machine lacks the soname (always in a dry run, which proves the pack).
fallback_deps=(libudev1 libgfortran5 libquadmath0)
fallback_sonames=(libudev.so.1 libgfortran.so.5 libquadmath.so.0)
readonly DEPS_DIR=.gpu-deps

die() { echo "gpu-check: $*" >&2; exit 1; }
unpack_deb() {  # DEB DIR: dpkg-deb where there is one, else ar + tar (data.tar.xz/.zst/.gz)
  if command -v dpkg-deb >/dev/null; then dpkg-deb -x "$1" "$2"; return; fi
  local member
  member=$(ar t "$1" | grep '^data\.tar') || return 1
  case "$member" in
    *.xz) ar p "$1" "$member" | tar -xJ -C "$2" ;;
    *.zst) ar p "$1" "$member" | zstd -dc | tar -x -C "$2" ;;
    *) ar p "$1" "$member" | tar -xz -C "$2" ;;
  esac
}
so_path() { ldconfig -p 2>/dev/null | awk -v so="$1" '$1 == so { print $NF; exit }'; }
note() { echo "gpu-check: $*"; }

deb_of() {  # PACKAGE -> the one .deb of it in .gpu-deps (empty when none or several)
  local f=("$DEPS_DIR/$1"_*.deb)
  [[ ${#f[@]} -eq 1 && -f "${f[0]}" ]] && echo "${f[0]}"
}

tree_files() {  # what travels to the device: tracked and untracked-not-ignored files
  git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
    [[ -f "$f" && ! -L "$f" ]] && printf '%s\0' "$f"
  done
}

pack() {
  git rev-parse --git-dir >/dev/null 2>&1 || die "--pack needs git and the repository's .git"
  mkdir -p "$DEPS_DIR"
  local missing=() p
  for p in "${deps[@]}" "${fallback_deps[@]}"; do
    [[ -n "$(deb_of "$p")" ]] && continue
    rm -f "$DEPS_DIR/$p"_*.deb
    missing+=("$p")
  done
  if ((${#missing[@]})); then
    command -v apt-get >/dev/null || die "--pack needs apt-get (Debian 12) for ${missing[*]}"
    note "downloading ${missing[*]}"
    if ! (cd "$DEPS_DIR" && apt-get download -q "${missing[@]}" 2>&1); then
      # A machine whose package lists were never fetched (a fresh container): fetch them once.
      [[ $(id -u) -eq 0 ]] || die "apt-get download failed (as non-root; run apt-get update)"
      note "apt-get download failed; running apt-get update and trying again"
      apt-get update -qq || die "apt-get update failed"
      (cd "$DEPS_DIR" && apt-get download -q "${missing[@]}" 2>&1) ||
        die "apt-get download ${missing[*]} failed"
    fi
  fi
  for p in "${deps[@]}" "${fallback_deps[@]}"; do
    [[ -n "$(deb_of "$p")" ]] || die "$DEPS_DIR has no single .deb of $p"
  done
  # The commit, as cmake/CobenchGitCommit.cmake would read it, and the files it describes.
  local commit
  commit=$(git rev-parse HEAD) || die "git rev-parse HEAD failed"
  [[ -n "$(git status --porcelain --untracked-files=no)" ]] && commit+="-dirty"
  echo "$commit" >"$DEPS_DIR/COMMIT"
  tree_files | xargs -0 -r sha256sum >"$DEPS_DIR/tree.sha256" || die "sha256sum of the tree failed"
  note "$DEPS_DIR: $(du -sh "$DEPS_DIR" | cut -f1), commit $commit" \
       "($(wc -l <"$DEPS_DIR/tree.sha256") files fingerprinted)"
}

# ---------------------------------------------------------------------------------------------
dry=0 full_build=0 jobs="" out_dir=""
while (($#)); do
  case "$1" in
    --pack) pack; exit 0 ;;
    --dry-run) dry=1 ;;
    --full-build) full_build=1 ;;
    -j) jobs=${2:?-j needs a number}; shift ;;
    --out) out_dir=${2:?--out needs a directory}; shift ;;
    -h|--help) sed -n '2,/^set -uo/p' "$0" | sed '$d'; exit 0 ;;
    *) echo "gpu-check: unknown option '$1' (try --help)" >&2; exit 2 ;;
  esac
  shift
done
((dry)) || [[ -z "$out_dir$jobs" && $full_build -eq 0 ]] ||
  { echo "gpu-check: --out, -j and --full-build go with --dry-run" >&2; exit 2; }

budget=${GPU_CHECK_BUDGET_S:-$CALL_BUDGET_S}
((dry)) && [[ -z "${GPU_CHECK_BUDGET_S:-}" ]] && budget=7200  # builds here are slow
[[ "$budget" =~ ^[0-9]+$ ]] ||
  { echo "gpu-check: GPU_CHECK_BUDGET_S must be a whole number of seconds, got '$budget'" >&2; exit 2; }
plan=${GPU_CHECK_STEPS:-first}
case "$plan" in
  first) steps=($FIRST_STEPS) ;;
  second) steps=($SECOND_STEPS) ;;
  *) read -r -a steps <<<"$plan" ;;
esac
for s in "${steps[@]}"; do
  [[ " $FIRST_STEPS $SECOND_STEPS sysinfo host_memory " == *" $s "* ]] ||
    { echo "gpu-check: unknown step '$s' in GPU_CHECK_STEPS (steps: $FIRST_STEPS $SECOND_STEPS)" >&2; exit 2; }
done

if ((dry)); then
  base="$root/build/gpucheck-dry$( ((full_build)) && echo -full)"
  OUT=${out_dir:-$base/out}
  # The device tool empties $OUT before each command: the default one is emptied here, a given
  # one must be empty already.
  if [[ -z "$out_dir" ]]; then rm -rf "$OUT"
  elif [[ -e "$OUT" && -n "$(ls -A "$OUT" 2>/dev/null)" ]]; then
    echo "gpu-check: --out $OUT is not empty" >&2; exit 2
  fi
  build_dir="$base/build" work="$base/work" prefix="$base/deps"
  jobs=${jobs:-$(nproc)}
  pack || exit 1  # downloads only what is missing; records the commit and the tree
else
  : "${OUT:?set OUT to the directory for results (the device tool sets it)}"
  build_dir="$root/build/gpu" work="$root/build/gpu-check" prefix=/tmp/cobench-deps
  jobs=$(nproc)
fi
mkdir -p "$OUT" || exit 1
OUT=$(cd "$OUT" && pwd)
rm -rf "$work" && mkdir -p "$work/extras/raw" "$work/extras/results" || exit 1
exec 3>&1 4>&2
exec > >(tee "$OUT/gpu-check.log") 2>&1
tee_pid=$!
SECONDS=0
left() { echo $((budget - SECONDS)); }
note "$(date -u +%FT%TZ) on $(hostname); plan: ${steps[*]}; budget ${budget} s$( ((dry)) && echo '; DRY RUN (no device)')"

# ---- step bookkeeping: the table at the end, summary.txt and extras.tar.gz after every step ----
status=0 ran_ctest=0
rows=()
record() {  # NAME STATUS SECONDS CAP NOTE
  rows+=("$(printf '%-12s %-15s %4s s  cap %4s  %s' "$1" "$2" "$3" "$4" "$5")")
  [[ "$2" == ok || "$2" == skipped ]] || status=1
  { echo "gpu-check summary ($( ((dry)) && echo 'dry run, ')$(date -u +%FT%TZ), ${SECONDS} s of ${budget})"
    printf '%s\n' "${rows[@]}"; } >"$work/extras/summary.txt"
  pack_extras
}
pack_extras() {  # extras.tar.gz, replaced atomically (a kill never leaves a half-written one)
  local tmp="$OUT/extras.tar.gz.part"
  if ((ran_ctest)) && [[ -f "$build_dir/Testing/Temporary/LastTest.log" ]]; then
    cp "$build_dir/Testing/Temporary/LastTest.log" "$work/extras/ctest-LastTest.log"
  fi
  tar -C "$work/extras" -czf "$tmp" . 2>/dev/null && mv -f "$tmp" "$OUT/extras.tar.gz"
  if [[ -f "$OUT/extras.tar.gz" ]] && (($(stat -c %s "$OUT/extras.tar.gz") > 15 * 1048576)); then
    note "extras.tar.gz over 15 MiB: packing it without the logs"
    tar -C "$work/extras" -czf "$tmp" --exclude='*.log' . && mv -f "$tmp" "$OUT/extras.tar.gz"
  fi
}
# The cap a step runs under: its own, or what the budget has left less 15 s for the end;
# "" when under MIN would remain.
cap_for() {  # CAP MIN
  local room=$(( $(left) - 15 ))
  local cap=$(( $1 < room ? $1 : room ))
  (( cap >= $2 )) && echo "$cap"
}

# ---- the machine (what it has, before anything can fail on it) ----
env_report() {
  echo "date:      $(date -u +%FT%TZ)"
  echo "host:      $(hostname)"
  echo "os:        $(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME") ($(uname -srm))"
  echo "glibc:     $(getconf GNU_LIBC_VERSION 2>/dev/null || ldd --version 2>&1 | head -1)"
  echo "cpu:       $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) threads;" \
       "avx512f: $(grep -qw avx512f /proc/cpuinfo && echo yes || echo no)," \
       "avx512_bf16: $(grep -qw avx512_bf16 /proc/cpuinfo && echo yes || echo no)"
  echo "memory:    $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo);" \
       "disk free: $(df -h --output=avail "$root" 2>/dev/null | tail -1 | tr -d ' ')"
  local t
  for t in g++ c++ cmake ninja make nvcc cuobjdump python3 git pkg-config; do
    if command -v "$t" >/dev/null; then
      case "$t" in
        nvcc) printf '%-10s %s\n' "$t:" "$(nvcc --version | tail -2 | head -1)" ;;
        cuobjdump|git|pkg-config|make) printf '%-10s %s\n' "$t:" "$(command -v "$t")" ;;
        *) printf '%-10s %s\n' "$t:" "$("$t" --version 2>&1 | head -1)" ;;
      esac
    else
      printf '%-10s %s\n' "$t:" "not found"
    fi
  done
  [[ -x /usr/local/cuda/bin/nvcc ]] && ! command -v nvcc >/dev/null &&
    echo "nvcc:      /usr/local/cuda/bin/nvcc (not on PATH): $(/usr/local/cuda/bin/nvcc --version | tail -2 | head -1)"
  local so where
  for so in "${fallback_sonames[@]}" libcuda.so.1; do
    where=$(so_path "$so")
    printf '%-10s %s\n' "${so%%.so*}:" "${where:-not found by ldconfig}"
  done
  if command -v nvidia-smi >/dev/null; then
    nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm,temperature.gpu,clocks_throttle_reasons.active --format=csv 2>&1
  else
    echo "nvidia-smi: not found"
  fi
}
env_report | tee "$work/extras/env.txt"
record env ok "$SECONDS" - "env.txt in extras.tar.gz"

# ---- the commit the build describes (the device copy has no .git) ----
if [[ -z "${COBENCH_GIT_COMMIT:-}" ]]; then
  if [[ -f "$DEPS_DIR/COMMIT" ]]; then
    COBENCH_GIT_COMMIT=$(head -1 "$DEPS_DIR/COMMIT")
    if [[ -f "$DEPS_DIR/tree.sha256" ]] &&
       ! changed=$(sha256sum --quiet -c "$DEPS_DIR/tree.sha256" 2>&1); then
      note "the tree differs from the one --pack fingerprinted: commit recorded as dirty"
      echo "$changed" | head -5
      [[ "$COBENCH_GIT_COMMIT" == *-dirty ]] || COBENCH_GIT_COMMIT+="-dirty"
    fi
  elif [[ -d .git ]]; then
    COBENCH_GIT_COMMIT=""
  else
    note "no .git and no $DEPS_DIR/COMMIT (run ./scripts/gpu-check.sh --pack before the call):" \
         "results will say commit unknown"
  fi
fi
if [[ -n "${COBENCH_GIT_COMMIT:-}" ]]; then
  export COBENCH_GIT_COMMIT
  note "commit $COBENCH_GIT_COMMIT"
else
  unset COBENCH_GIT_COMMIT
fi

finish() {
  echo
  printf '%s\n' "gpu-check: steps (status, seconds, cap):" "${rows[@]}"
  if [[ -f "$work/extras/sass-summary.txt" ]]; then
    note "tensor-core instructions per kernel:"
    grep -E 'GMMA|HMMA|LDL|STL' "$work/extras/sass-summary.txt" | head -20 || true
  fi
  pack_extras
  check_out "$OUT" || status=1
  note "finished with status $status after ${SECONDS} s (budget ${budget} s)"
  exec 1>&3 2>&4
  wait "$tee_pid" 2>/dev/null
  exit "$status"
}

# $OUT as the device tool returns it: at most 8 plain files, each <= 16 MiB, <= 64 MiB in all,
# no deeper than $OUT/a/b/file, names of letters, digits, '.', '_' and '-'.
check_out() {
  local dir=$1 n=0 total=0 bad=0 p rel size depth
  while IFS= read -r -d '' p; do
    rel=${p#"$dir"/}
    [[ "$rel" =~ ^[A-Za-z0-9._/-]+$ ]] || { echo "gpu-check: \$OUT/$rel: a name with other characters"; bad=1; }
    depth=$(tr -cd / <<<"$rel" | wc -c)
    if [[ -L "$p" ]]; then echo "gpu-check: \$OUT/$rel is a link (not returned)"; bad=1; continue; fi
    if [[ -d "$p" ]]; then
      ((depth < 2)) || { echo "gpu-check: \$OUT/$rel: folder too deep"; bad=1; }
      continue
    fi
    [[ -f "$p" ]] || { echo "gpu-check: \$OUT/$rel is not a plain file"; bad=1; continue; }
    ((depth <= 2)) || { echo "gpu-check: \$OUT/$rel: more than 2 folders down"; bad=1; }
    size=$(stat -c %s "$p")
    ((size <= 16 * 1048576)) || { echo "gpu-check: \$OUT/$rel: $size B, over 16 MiB"; bad=1; }
    n=$((n + 1)) total=$((total + size))
  done < <(find "$dir" -mindepth 1 -print0)
  ((n <= 8)) || { echo "gpu-check: \$OUT holds $n files; at most 8 come back"; bad=1; }
  ((total <= 64 * 1048576)) || { echo "gpu-check: \$OUT holds $total B, over 64 MiB"; bad=1; }
  echo "gpu-check: \$OUT: $n files, $((total / 1024)) KiB$( ((bad)) && echo ': BREAKS THE RETURN RULES' || echo ', within the return rules')"
  return "$bad"
}

# ---- the packed dependencies, unpacked under $prefix (never into /) ----
libdir=$prefix/usr/lib/x86_64-linux-gnu
t0=$SECONDS
if [[ ! -d "$DEPS_DIR" ]]; then
  note "no $DEPS_DIR: run ./scripts/gpu-check.sh --pack here and carry [\"$DEPS_DIR\"];" \
       "using whatever the machine has"
  record deps failed $((SECONDS - t0)) - "no $DEPS_DIR"
else
  # Unpacked again only when the set of .deb files changed: a second call on the same machine
  # keeps its build up to date instead of rebuilding against fresh copies of the same headers.
  stamp=$(for p in "${deps[@]}" "${fallback_deps[@]}"; do deb_of "$p"; done | xargs -r ls -l | md5sum)
  unpacked=() fallback_used=()
  if [[ -f "$prefix/.stamp" && "$(cat "$prefix/.stamp")" == "$stamp" ]]; then
    note "$prefix already holds these packages"
    unpacked=("${deps[@]}")
  else
    rm -rf "$prefix" && mkdir -p "$prefix/fallback" || finish
    for p in "${deps[@]}"; do
      f=$(deb_of "$p")
      [[ -n "$f" ]] || { note "$DEPS_DIR has no single .deb of $p"; continue; }
      unpack_deb "$f" "$prefix" && unpacked+=("$p")
    done
    for p in "${fallback_deps[@]}"; do
      f=$(deb_of "$p")
      [[ -n "$f" ]] && unpack_deb "$f" "$prefix/fallback"
    done
    # The .pc files name /usr (or /usr/lib/... directly): point them at the prefix.
    find "$prefix/usr" -name '*.pc' -exec sed -i -E \
      "s#^(prefix|exec_prefix|libdir|includedir)=/usr#\1=$prefix/usr#" {} +
    ((${#unpacked[@]} == ${#deps[@]})) && echo "$stamp" >"$prefix/.stamp"
  fi
  for i in "${!fallback_deps[@]}"; do
    if ((dry)) || [[ -z "$(so_path "${fallback_sonames[$i]}")" ]]; then
      fallback_used+=("${fallback_sonames[$i]}")
    fi
  done
  # The lib*.so development links of the OpenBLAS alternatives live in openblas-pthread/.
  pcdirs=$libdir/pkgconfig:$prefix/usr/share/pkgconfig:$libdir/openblas-pthread/pkgconfig
  export CMAKE_PREFIX_PATH="$prefix/usr"
  export LD_LIBRARY_PATH="$libdir:$libdir/openblas-pthread${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  if ((${#fallback_used[@]})); then
    export LD_LIBRARY_PATH="$LD_LIBRARY_PATH:$prefix/fallback/usr/lib/x86_64-linux-gnu"
  fi
  export PATH="$prefix/usr/bin:$PATH"
  pkgconf_bin=$prefix/usr/bin/pkgconf
  missing_deps=$(( ${#deps[@]} - ${#unpacked[@]} ))
  record deps "$( ((missing_deps)) && echo failed || echo ok)" $((SECONDS - t0)) - \
    "${#unpacked[@]} packages under $prefix; fallback libraries used: ${fallback_used[*]:-none}"
fi

# ---- configure: the gpu preset, warnings NOT errors (an unknown g++ must not end the call) ----
build_targets() {
  local t=(cobench)
  local s
  for s in "${steps[@]}"; do
    case "$s" in
      tests) t+=(cuda_check_tests gemm_cuda_tests mla_cuda_tests memory_cuda_tests
                 ep_kernels_cuda_tests kernels_cpu_tests mla_avx512_tests cobench_bench_gemm_gpu
                 cobench_bench_memory_gpu cobench_bench_mla_gpu) ;;
      probe|gemm|gemm_wide) t+=(cobench_bench_gemm_gpu) ;;
      mla|gqa|mla_wide) t+=(cobench_bench_mla_gpu) ;;
      memory|memory_wide) t+=(cobench_bench_memory_gpu) ;;
      gemm_cpu) t+=(cobench_bench_gemm_cpu) ;;
      mla_cpu) t+=(cobench_bench_mla_cpu) ;;
      sass) t+=(cobench_kernels_cuda cobench_kernels_mla_cuda cobench_kernels_memory_cuda) ;;
    esac
  done
  if ((dry && !full_build)); then
    # Here, the least that proves the pack (CI runs this after a full build of its own): every
    # packed dependency compiled and linked against, and run from the pack: fmt, json, yaml-cpp,
    # GoogleTest, CUDA and nvcc (cuda_check_tests); SIMDe, OpenBLAS (kernels_cpu_tests); hwloc,
    # Google Benchmark (cobench_bench_memory, the stand-in benchmark); CLI11 (one object of the
    # cobench app). cobench itself only when build/default has none to lend.
    t=(cuda_check_tests kernels_cpu_tests cobench_bench_memory
       apps/cobench/CMakeFiles/cobench.dir/main.cpp.o)
    [[ -n "$lent_cobench" ]] || t+=(cobench)
  fi
  ((dry)) && t+=(cobench_bench_memory)  # the stand-in benchmark
  printf '%s\n' "${t[@]}" | awk '!seen[$0]++'
}
# A dry run borrows cobench (sysinfo, results conversion) from COBENCH_BIN or build/default when
# there is one, rather than building the whole app again.
lent_cobench=""
if ((dry && !full_build)); then
  for c in "${COBENCH_BIN:-}" "$root/build/default/apps/cobench/cobench"; do
    [[ -n "$c" && -x "$c" ]] && { lent_cobench=$(realpath "$c"); break; }
  done
fi
mapfile -t targets < <(build_targets)
generator=()
command -v ninja >/dev/null || { generator=(-G "Unix Makefiles"); note "no ninja: Unix Makefiles"; }
configure() {  # STRICT(0/1): 1 = the packed dependencies only; CAP
  local args=(--preset gpu -B "$build_dir" "${generator[@]}" -DCOBENCH_WERROR=OFF
              -DCMAKE_DISABLE_FIND_PACKAGE_MPI=ON)
  local envs=()
  if ((dry)) && ! command -v nvcc >/dev/null && [[ ! -x /usr/local/cuda/bin/nvcc ]]; then
    note "no CUDA toolkit here: configuring without CUDA"
    args+=(-DCOBENCH_REQUIRE_CUDA=OFF -DCOBENCH_ENABLE_CUDA=OFF)
  fi
  # Debian's multiarch headers (hwloc/autogen/config.h) are found in /usr/include/<triplet> by the
  # compiler's default path, which the pack is not on.
  if [[ -d "$prefix/usr/include/x86_64-linux-gnu" ]]; then
    args+=("-DCMAKE_CXX_FLAGS=-isystem $prefix/usr/include/x86_64-linux-gnu"
           "-DCMAKE_CUDA_FLAGS=-isystem $prefix/usr/include/x86_64-linux-gnu")
  fi
  if [[ -n "${pkgconf_bin:-}" ]]; then
    args+=(-DPKG_CONFIG_EXECUTABLE="$pkgconf_bin")
    if (($1)); then  # CMake's system prefixes and pkg-config's default directories left out
      args+=(-DCMAKE_FIND_USE_CMAKE_SYSTEM_PATH=OFF)
      envs=(PKG_CONFIG_LIBDIR="$pcdirs" PKG_CONFIG_PATH=)
    else
      envs=(PKG_CONFIG_PATH="$pcdirs")
    fi
  fi
  rm -f "$build_dir/CMakeCache.txt"
  # The same pkg-config setting for the build (CMake may configure again during it).
  if ((${#envs[@]})); then export "${envs[@]}"; fi
  timeout -k 5 "$2" cmake "${args[@]}" >"$work/extras/configure.log" 2>&1
}
t0=$SECONDS
cap=$(cap_for $((dry ? 900 : 120)) 30)
[[ -n "$cap" ]] || { record configure skipped 0 - budget; finish; }
if configure 1 "$cap"; then
  cfg=ok
elif ((dry)); then
  cfg=failed
else
  note "configure against the packed dependencies only failed (tail below); again with the machine's own too"
  tail -15 "$work/extras/configure.log"
  mv "$work/extras/configure.log" "$work/extras/configure-strict.log"
  cap=$(cap_for 90 20)
  if [[ -n "$cap" ]] && configure 0 "$cap"; then cfg=ok; else cfg=failed; fi
fi
grep -E '^-- cobench' "$work/extras/configure.log"
if [[ "$cfg" == ok ]] && ! grep -q '^OPENBLAS_FOUND:INTERNAL=1' "$build_dir/CMakeCache.txt"; then
  note "OpenBLAS NOT found: the CPU GEMM's SGEMM baseline would not be built"
  ((dry)) && cfg=failed
fi
if [[ "$cfg" != ok ]]; then
  tail -30 "$work/extras/configure.log"
  record configure failed $((SECONDS - t0)) "${cap:-0}" "configure.log in extras.tar.gz"
  finish
fi
record configure ok $((SECONDS - t0)) "$cap" "OpenBLAS found"

# ---- build: keep going past a failing target, then run whatever was built ----
t0=$SECONDS
cap=$(cap_for $((dry ? 3000 : 240)) 30)
[[ -n "$cap" ]] || { record build skipped 0 - budget; finish; }
keep_going=(-k 0)
((${#generator[@]})) && keep_going=(-k)
if [[ -f "$build_dir/build.ninja" ]]; then  # ninja refuses the whole build for one unknown target
  known=$(ninja -C "$build_dir" -t targets all 2>/dev/null | cut -d: -f1)
  kept=()
  for t in "${targets[@]}"; do
    if grep -qxF "$t" <<<"$known"; then kept+=("$t"); else note "no target $t in this configuration"; fi
  done
  targets=("${kept[@]}")
fi
# Two rounds when the first steps' targets are a part: should the cap cut the build short, the
# tests, the probe and the GEMMs are what was built first.
first=() rest=()
for t in "${targets[@]}"; do
  case "$t" in
    cobench|cuda_check_tests|gemm_cuda_tests|kernels_cpu_tests|cobench_bench_gemm_gpu) first+=("$t") ;;
    *) rest+=("$t") ;;
  esac
done
((${#first[@]} && ${#rest[@]})) || { first=("${targets[@]}"); rest=(); }
note "building ${#targets[@]} targets with -j $jobs for at most $cap s (log in extras.tar.gz: build.log)"
: >"$work/extras/build.log"
rc=0
for round in first rest; do
  declare -n round_targets=$round
  ((${#round_targets[@]})) || continue
  room=$((cap - (SECONDS - t0)))
  ((room > 5)) || { rc=124; break; }
  timeout -k 5 "$room" nice -n 10 cmake --build "$build_dir" -j "$jobs" --target "${round_targets[@]}" \
    -- "${keep_going[@]}" >>"$work/extras/build.log" 2>&1
  r=$?
  ((r == 0)) || rc=$r
  ((r == 124 || r == 137)) && break
done
warnings=$(grep -c 'warning:' "$work/extras/build.log")
built=() not_built=()
for t in "${targets[@]}"; do
  if [[ "$t" == */* ]]; then f=$build_dir/$t; [[ -f "$f" ]] || f=""; else
    f=$(find "$build_dir" -maxdepth 3 \( -name "$t" -o -name "lib$t.a" \) -type f 2>/dev/null | head -1)
  fi
  [[ -n "$f" ]] && built+=("$t") || not_built+=("$t")
done
if ((rc)); then
  grep -E -A12 '^FAILED:|error:' "$work/extras/build.log" | head -60
  note "build: rc $rc$( ((rc == 124)) && echo ' (killed at its cap)'); not built: ${not_built[*]:-none}"
fi
((warnings)) && { note "build: $warnings warnings (the first below; all in build.log)";
                  grep -m 10 'warning:' "$work/extras/build.log"; }
record build "$( ((rc == 0)) && echo ok || ( ((rc == 124 || rc == 137)) && echo killed || echo failed) )" \
  $((SECONDS - t0)) "$cap" "${#built[@]}/${#targets[@]} targets; $warnings warning lines${not_built:+; missing: ${not_built[*]}}"

# What the build used: headers and libraries must come from the pack, the CUDA toolkit or the
# base system (C library, libstdc++, the kernel headers); a host package's copy means the pack is
# incomplete and the device build would fail. Checked in the dry run, where the host has them all.
check_provenance() {
  command -v dpkg >/dev/null && command -v python3 >/dev/null ||
    { note "provenance: no dpkg or python3 here, not checked"; return 0; }
  [[ -f "$build_dir/build.ninja" ]] || { note "provenance: not a Ninja build, not checked"; return 0; }
  { ninja -C "$build_dir" -t deps 2>/dev/null | awk 'NF == 1 && $1 ~ /^\//'
    for f in "$build_dir"/apps/cobench/cobench "$build_dir"/tests/*_tests \
             "$build_dir"/microbench/cobench_bench_*; do
      [[ -x "$f" ]] && ldd "$f" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// {print $3}'
    done; } | python3 -c '
import os, re, subprocess, sys
prefix, root = sys.argv[1], sys.argv[2]
files = sorted({os.path.realpath(l.strip()) for l in sys.stdin if l.strip()})
files = [f for f in files if not f.startswith((prefix + "/", "/usr/local/cuda", root + "/"))]
def owners(paths):
    out = subprocess.run(["dpkg", "-S", *paths], capture_output=True, text=True).stdout if paths else ""
    got = {}
    for line in out.splitlines():
        pkgs, _, path = line.partition(": ")
        got[path] = [p.strip().split(":")[0] for p in pkgs.split(",")]
    return got
own = owners(files)
# Merged /usr: dpkg knows /lib/x86_64-linux-gnu/libm.so.6, the real path is /usr/lib/...
retry = {re.sub(r"^/usr/(lib|lib64|bin|sbin)/", r"/\1/", f): f for f in files if f not in own}
for alias, pkgs in owners([a for a, f in retry.items() if a != f]).items():
    own[retry[alias]] = pkgs
base = re.compile(r"^(libc6|libc6-dev|libc-dev-bin|linux-libc-dev|libstdc\+\+6|libstdc\+\+-\d+-dev|"
                  r"libgcc-s1|libgcc-\d+-dev|gcc-\d+-base|libcrypt-dev|libcrypt1)$")
bad = {}
for f in files:
    pkgs = own.get(f, ["(no package)"])
    if not any(base.match(p) for p in pkgs):
        bad.setdefault(", ".join(pkgs), []).append(f)
used = " ".join(sorted({p for f in files for p in own.get(f, [])}))
if bad:
    print("gpu-check: provenance: the build used files the pack does not hold (the device lacks them):")
    for pkgs, fs in sorted(bad.items()):
        print(f"  {pkgs}: {len(fs)} file(s), e.g. {fs[0]}")
    sys.exit(1)
print(f"gpu-check: provenance: {len(files)} headers and libraries from outside the pack, all from "
      f"the base system ({used})")
' "$prefix" "$root"
}
if ((dry)); then
  t0=$SECONDS
  if check_provenance; then record provenance ok $((SECONDS - t0)) - "headers and libraries"; else
    record provenance failed $((SECONDS - t0)) - "host packages used"; fi
fi

exe() {  # TARGET -> its path when built
  local f
  f=$(find "$build_dir" -maxdepth 3 -name "$1" -type f -perm -u+x 2>/dev/null | head -1)
  [[ -n "$f" ]] && echo "$f"
}
cobench=$(exe cobench)
if [[ -n "$lent_cobench" ]]; then
  cobench=$lent_cobench
  note "cobench (sysinfo, results conversion): $cobench, lent to the dry run"
fi

# ---- results: salvage each group's gbench JSON (cut off or not), convert, place ----
# GPU groups go to $OUT/<group>.json; others into extras.tar.gz (results/<group>.json).
convert_group() {  # GROUP SUITE BACKEND
  local group=$1 raws=("$work/raw-$1"-*.gbench.json) merged="$work/extras/raw/$1.gbench.json"
  # (named raw-GROUP-NN-STEP: the glob gives them in the order they ran)
  [[ -f "${raws[0]}" ]] || return 0
  if command -v python3 >/dev/null; then
    python3 "$root/scripts/gbench_salvage.py" "$merged" "${raws[@]}"
    case $? in 0) ;; 3) return 0 ;; *) return 1 ;; esac
  else
    note "no python3: converting the last run of $group as it is"
    cp "${raws[-1]}" "$merged"
  fi
  # Without cobench the salvaged gbench JSON still comes back (extras.tar.gz: raw/).
  [[ -n "$cobench" ]] || { note "$group: no cobench binary to convert with"; return 1; }
  local dest="$work/extras/results/$group.json"
  [[ "$group" == *_gpu ]] && dest="$OUT/$group.json"
  rm -f "$work/$group.results.json"
  "$cobench" results from-gbench "$merged" -o "$work/$group.results.json" --suite "$2" \
    --backend "$3" || return 1
  cp "$work/$group.results.json" "$dest.part" && mv -f "$dest.part" "$dest"
}

# ---- the steps ----
spec() {  # STEP -> kind cap min target group backend reps filter
  case "$1" in
    tests)   echo "ctest 100 20" ;;
    sysinfo) echo "sysinfo 20 5" ;;
    sass)    echo "sass 20 5" ;;
    probe)   echo "bench 30 10 cobench_bench_gemm_gpu gemm_gpu cuda 1 ^BM_AccumulatorProbe/" ;;
    gemm)    echo "bench 75 20 cobench_bench_gemm_gpu gemm_gpu cuda 3 ^BM_Fp8Block_(CublasLt|Cobench)/shape:square/.*/m:4096/" ;;
    mla)     echo "bench 50 15 cobench_bench_mla_gpu mla_gpu cuda 1 ^BM_DeviceCopy/|^BM_MlaDecodeGpu/kernel:tc/heads:128/cache:(bf16|fp8)/(batch:64/context:4096|batch:1/context:32768)/" ;;
    memory)  echo "bench 40 15 cobench_bench_memory_gpu memory_gpu cuda 1 model_input|^BM_DeviceStream/op:triad/mib:1024/" ;;
    gqa)     echo "bench 40 15 cobench_bench_mla_gpu mla_gpu cuda 1 ^BM_GqaDecodeGpu/attn:(gqa|mha)/(batch:64/context:4096|batch:1/context:32768)/" ;;
    gemm_model)  echo "bench 80 20 cobench_bench_gemm_gpu gemm_gpu cuda 1 ^BM_Fp8Block_CublasLt/shape:(q_a|q_b|kv_a|kv_b|o|expert_gate_up|expert_down|dense_gate_up|dense_down)(_dgrad)?/model_input:gpu\.gemm_fp8/m:(64|512|4096)/" ;;
    gemm_wide)   echo "bench 70 20 cobench_bench_gemm_gpu gemm_gpu cuda 1 /shape:square/|^BM_GroupedFp8_Cobench/" ;;
    mla_wide)    echo "bench 60 20 cobench_bench_mla_gpu mla_gpu cuda 1 ^BM_DeviceCopy/|kernel:tc/.*batch:(1|64)/context:(4096|32768)/|kernel:simt/.*batch:1/context:32768/|^BM_GqaDecodeGpu/.*batch:(1|64)/context:(4096|32768)/" ;;
    memory_wide) echo "bench 40 15 cobench_bench_memory_gpu memory_gpu cuda 1 op:(copy|triad)/mib:1024|^BM_HostDeviceCopy/.*/kib:262144/" ;;
    gemm_cpu)    echo "bench 45 15 cobench_bench_gemm_cpu gemm_cpu cpu 1 FmaPeak|Bf16DotPeak|m:2048/n:2048/k:2048" ;;
    mla_cpu)     echo "bench 40 15 cobench_bench_mla_cpu mla_cpu cpu 1 FmaPeak|AmxPeak|HostRead|batch:1/context:32768" ;;
    # The dry run's stand-in for a device benchmark, killed at a 5 s cap on purpose.
    host_memory) echo "bench 5 5 cobench_bench_memory memory cpu 1 ^BM_HostStream/op:[a-z]+/mib:64/|^BM_KvGather/" ;;
  esac
}

step_ctest() {  # CAP
  local cap=$1 labels='gpu|avx512' exclude=()
  # Tests whose executable was not built are left out (and named), not failed one by one.
  if command -v python3 >/dev/null; then
    local missing
    missing=$(ctest --test-dir "$build_dir" -L "$labels" --show-only=json-v1 2>/dev/null | python3 -c '
import json, os, re, sys
try:
    tests = json.load(sys.stdin)["tests"]
except Exception:
    sys.exit(0)
build = sys.argv[1] + "/"
def built(cmd):  # the executable and every build-tree path it is given exist
    return bool(cmd) and os.path.isfile(cmd[0]) and all(
        os.path.exists(a) for a in cmd if a.startswith(build))
print("|".join("^" + re.escape(t["name"]) + "$" for t in tests if not built(t.get("command"))))
' "$build_dir")
    if [[ -n "$missing" ]]; then
      note "tests left out, their binaries were not built: $(sed 's/[\\^$]//g; s/|/ /g' <<<"$missing")"
      exclude=(-E "$missing")
    fi
  fi
  # Every GoogleTest case carries TIMEOUT 1200 (tests/CMakeLists.txt), which --timeout does not
  # override; --stop-time ends them all at the cap. timeout(1) is the backstop.
  local stop
  stop=$(date -d "@$(( $(date +%s) + cap - 5 ))" +%H:%M:%S)
  timeout -k 5 $((cap + 10)) ctest --test-dir "$build_dir" -L "$labels" "${exclude[@]}" -j 4 \
    --output-on-failure --no-tests=error --stop-time "$stop" --output-junit "$OUT/ctest.xml"
}

step_sass() {
  local cuobjdump libs=()
  cuobjdump=$(command -v cuobjdump || echo /usr/local/cuda/bin/cuobjdump)
  if [[ ! -x "$cuobjdump" ]]; then
    note "no cuobjdump on PATH or in /usr/local/cuda/bin"
    ((dry)) && return 77  # this toolkit may lack it; the device's has it
    return 1
  fi
  for f in "$build_dir"/kernels/libcobench_kernels_*cuda.a "$build_dir"/kernels/libcobench_accumulator_probe.a; do
    [[ -f "$f" ]] && libs+=("$f")
  done
  if ((dry && ${#libs[@]} == 0)); then
    f=$(exe cuda_check_tests) && libs=("$f")  # the dry run's one CUDA binary
  fi
  ((${#libs[@]})) || { note "no CUDA kernel library built"; return 1; }
  # QGMMA: FP8 WGMMA, HGMMA: BF16 WGMMA, HMMA: mma.sync; LDL/STL: local memory (spills or
  # dynamically indexed arrays); "none" for a kernel with none of them.
  for f in "${libs[@]}"; do "$cuobjdump" --dump-sass "$f" || return 1; done >"$work/sass.txt"
  awk '/code for sm_/ { arch = $3 }
       /Function : / { f = $3 " [" arch "]"; fn[f] = 1 }
       f && match($0, /(QGMMA|HGMMA|HMMA|LDL|STL)[.[:space:]]/) {
         n[f, substr($0, RSTART, RLENGTH - 1)]++; any[f] = 1 }
       END { for (k in n) { split(k, p, SUBSEP); print p[1], p[2] "=" n[k] }
             for (f in fn) if (!(f in any)) print f, "none" }' "$work/sass.txt" |
    sort | { command -v c++filt >/dev/null && c++filt || cat; } >"$work/extras/sass-summary.txt"
  note "SASS summary: $(wc -l <"$work/extras/sass-summary.txt") lines (extras.tar.gz: sass-summary.txt)"
}

run_step() {  # STEP
  local name=$1 kind cap0 min target group backend reps filter
  read -r kind cap0 min target group backend reps filter <<<"$(spec "$name")"
  local cap t0=$SECONDS rc bin
  cap=$(cap_for "$cap0" "$min")
  if [[ -z "$cap" ]]; then
    note "skip $name: $(left) s of the budget left"
    record "$name" skipped 0 "$cap0" "budget"
    return
  fi
  case "$kind" in
    ctest)
      note "$name: ctest -L 'gpu|avx512' for at most $cap s"
      ran_ctest=1
      step_ctest "$cap"; rc=$?
      record "$name" "$(status_of "$rc")" $((SECONDS - t0)) "$cap" \
        "$(junit_counts "$OUT/ctest.xml")" ;;
    sysinfo)
      [[ -n "$cobench" ]] || { record "$name" failed 0 "$cap" "cobench not built"; return; }
      timeout -k 5 "$cap" "$cobench" sysinfo
      rm -f "$work/sysinfo.json"
      timeout -k 5 "$cap" "$cobench" sysinfo --out "$work/sysinfo.json" >/dev/null; rc=$?
      ((rc == 0)) && cp "$work/sysinfo.json" "$OUT/sysinfo.json.part" &&
        mv -f "$OUT/sysinfo.json.part" "$OUT/sysinfo.json"
      record "$name" "$(status_of "$rc")" $((SECONDS - t0)) "$cap" "sysinfo.json" ;;
    sass)
      step_sass; rc=$?
      if ((rc == 77)); then record "$name" skipped $((SECONDS - t0)) "$cap" "no cuobjdump here"
      else record "$name" "$(status_of "$rc")" $((SECONDS - t0)) "$cap" "sass-summary.txt"; fi ;;
    bench)
      if ! bin=$(exe "$target"); then
        if ((dry)); then
          note "skip $name: $target is not built in this dry run (it needs a device)"
          record "$name" skipped 0 "$cap" "dry run: not built"
        else
          record "$name" failed 0 "$cap" "$target not built"
        fi
        return
      fi
      local results="$work/extras/results/$group.json" before after total passed bad
      [[ "$group" == *_gpu ]] && results="$OUT/$group.json"
      read -r before _ <<<"$(results_counts "$results")"
      # Without a device a GPU binary registers only <prefix>/no_device (its error says why):
      # matched too, so a dry run converts it; on a device it does not exist.
      [[ "$backend" == cuda ]] && filter+="|/no_device$"
      note "$name: $target --benchmark_filter='$filter' x$reps for at most $cap s"
      bench_runs=$((bench_runs + 1))
      timeout -k 5 "$cap" "$bin" "--benchmark_filter=$filter" "--benchmark_repetitions=$reps" \
        --benchmark_out="$work/raw-$group-$(printf %02d "$bench_runs")-$name.gbench.json" \
        --benchmark_out_format=json
      rc=$?
      local st
      st=$(status_of "$rc")
      convert_group "$group" "$group" "$backend" || st="failed(convert)"
      read -r total passed bad <<<"$(results_counts "$results")"
      after=$((total - before))
      if ((after == 0)) && ! ((dry)) || ((after == 0)) && [[ "$backend" != cuda ]]; then
        st="failed(nothing)"  # (a dry run's GPU steps share one no_device entry, kept once)
      elif ((bad && !dry)); then
        st="failed(verify)"  # a record whose verification failed or that reported an error
      fi
      if [[ "$name" == host_memory && "$st" == killed ]]; then st=ok; fi  # the planned kill
      record "$name" "$st" $((SECONDS - t0)) "$cap" \
        "$group.json: +$after records ($total: $passed verified, $bad failed or error)$( ((rc == 124)) && echo '; killed at the cap, finished ones kept')" ;;
  esac
}
bench_runs=0
status_of() { case "$1" in 0) echo ok ;; 124|137) echo killed ;; *) echo "failed($1)" ;; esac; }
results_counts() {  # FILE -> "records verified failed-or-error" ("0 0 0" when none)
  [[ -f "$1" ]] && command -v python3 >/dev/null || { echo "0 0 0"; return; }
  python3 -c '
import json, sys
rs = json.load(open(sys.argv[1]))["records"]
st = [r.get("verification", {}).get("status") for r in rs]
print(len(rs), st.count("passed"), st.count("failed") + st.count("error"))' "$1" 2>/dev/null ||
    echo "0 0 0"
}
junit_counts() {
  [[ -f "$1" ]] || { echo "no ctest.xml"; return; }
  python3 - "$1" <<'PY' 2>/dev/null || echo "ctest.xml"
import sys, xml.etree.ElementTree as ET
p = f = s = 0
for case in ET.parse(sys.argv[1]).getroot().iter("testcase"):
    if case.find("failure") is not None or case.find("error") is not None: f += 1
    elif case.find("skipped") is not None or case.get("status") in ("notrun", "disabled"): s += 1
    else: p += 1
print(f"{p} passed, {f} failed, {s} skipped")
PY
}

# The cheap node snapshot first (it says which GPU the numbers below are from), then the plan.
run_step sysinfo
for s in "${steps[@]}"; do run_step "$s"; done
if ((dry)); then
  # The dry run's stand-ins for the device steps: the CPU benchmarks through the same machinery,
  # one of them killed at its cap on purpose (whatever finished must come back).
  run_step host_memory
fi

# ---- dry run: the call's plan and what travels ----
if ((dry)); then
  t0=$SECONDS
  plan_ok=1
  used=$((START_S + CALL_TIMEOUT_S + WARM_S))
  if ((CALL_BUDGET_S + 20 > CALL_TIMEOUT_S || DEVICE_S - used < KEEP_S)); then
    note "time plan: budget $CALL_BUDGET_S s in a $CALL_TIMEOUT_S s call leaves $((DEVICE_S - used)) s (< $KEEP_S)"
    plan_ok=0
  fi
  size=$(tree_files | du -cb --files0-from=- 2>/dev/null | tail -1 | cut -f1)
  size=$((size + $(du -sb "$DEPS_DIR" | cut -f1)))
  if ((size > 64 * 1048576)); then
    note "what travels (tree + $DEPS_DIR) is $((size / 1048576)) MiB, over 64 MiB"; plan_ok=0
  fi
  git check-ignore -q "$DEPS_DIR/" || { note "$DEPS_DIR is not ignored by git: it would travel twice"; plan_ok=0; }
  # The build must name the commit --pack recorded, as it will without .git on the device.
  want=$(head -1 "$DEPS_DIR/COMMIT")
  hdr=$build_dir/generated/cobench/git_commit.h
  grep -q "COBENCH_GIT_COMMIT \"$want\"" "$hdr" 2>/dev/null ||
    { note "$hdr does not name $want: $(grep -h define "$hdr" 2>/dev/null)"; plan_ok=0; }
  # Every results file this run wrote must validate.
  for f in "$OUT"/*.json "$work"/extras/results/*.json; do
    [[ -f "$f" ]] || continue
    "$cobench" results validate "$f" >/dev/null || { note "$f does not validate"; plan_ok=0; }
  done
  note "plan: call ${CALL_TIMEOUT_S} s (script budget ${CALL_BUDGET_S} s) + start ${START_S} s + warm ${WARM_S} s" \
       "= $used of ${DEVICE_S} s, $((DEVICE_S - used)) s left; travels $((size / 1048576)) MiB"
  record plan "$( ((plan_ok)) && echo ok || echo failed)" $((SECONDS - t0)) - \
    "time plan, tree size, commit, results validate"
fi
finish
