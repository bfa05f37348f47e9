#!/usr/bin/env bash
# Installs what cobench needs and only what is missing; safe to run again (idempotent).
#   Debian/Ubuntu packages with apt-get (as root), Python packages from scripts/requirements.txt
#   with pip into the project virtual environment .venv/.
# On a system it cannot handle it prints the exact list of what is needed and exits 1; where the
# dependencies come from elsewhere (another distribution, a module system), COBENCH_SKIP_SETUP=1
# skips this script and CMake finds them.
# The CUDA toolkit is optional and not installed here: with nvcc on PATH or in /usr/local/cuda
# the CUDA targets build, without it everything else does.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [[ "${COBENCH_SKIP_SETUP:-}" == 1 ]]; then
  echo "setup: COBENCH_SKIP_SETUP=1: not checking or installing anything"
  exit 0
fi

# Debian 12 package names, one per dependency the build or the tests use.
debs=(
  build-essential cmake ninja-build pkg-config git clang-format
  libgtest-dev libgmock-dev libbenchmark-dev
  libfmt-dev libhwloc-dev nlohmann-json3-dev libyaml-cpp-dev libcli11-dev
  libopenmpi-dev openmpi-bin libopenblas-dev libsimde-dev mbw chromium
  python3 python3-venv python3-pip
)

missing=()
for p in "${debs[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done

# python3-venv is only needed when python3 itself is Debian's: a pyenv or conda python has venv.
if [[ " ${missing[*]} " == *" python3-venv "* ]] && python3 -c 'import venv, ensurepip' 2>/dev/null; then
  missing=("${missing[@]/python3-venv/}")
fi
if [[ " ${missing[*]} " == *" python3 "* ]] && command -v python3 >/dev/null; then
  missing=("${missing[@]/python3/}")
fi
if [[ " ${missing[*]} " == *" python3-pip "* ]] && python3 -m pip --version >/dev/null 2>&1; then
  missing=("${missing[@]/python3-pip/}")
fi
read -r -a missing <<<"${missing[*]:-}"

if ((${#missing[@]})); then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    echo "setup: installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: cannot install packages here (need root and apt-get)." >&2
    echo "setup: install these Debian/Ubuntu packages, then run this script again:" >&2
    echo "  apt-get install ${missing[*]}" >&2
    exit 1
  fi
else
  echo "setup: Debian packages: all present"
fi

# Python: a project virtual environment, so no system Python is modified.
venv="$root/.venv"
if [[ ! -x "$venv/bin/python" ]]; then
  echo "setup: creating Python virtual environment $venv"
  python3 -m venv "$venv"
fi
if "$venv/bin/python" - "$root/scripts/requirements.txt" <<'PY' 2>/dev/null; then
import sys, re
from importlib.metadata import version, PackageNotFoundError
need = [re.split(r"[<>=!~ ]", l.strip())[0] for l in open(sys.argv[1])
        if l.strip() and not l.startswith("#")]
for n in need:
    version(n)  # raises PackageNotFoundError when missing
PY
  echo "setup: Python packages: all present"
else
  echo "setup: installing Python packages from scripts/requirements.txt into .venv"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$root/scripts/requirements.txt"
fi

if command -v nvcc >/dev/null || [[ -x /usr/local/cuda/bin/nvcc ]]; then
  echo "setup: CUDA toolkit found: CUDA targets will build"
else
  echo "setup: no CUDA toolkit (nvcc): CUDA targets are skipped, everything else builds"
fi
