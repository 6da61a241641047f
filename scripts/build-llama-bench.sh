#!/usr/bin/env bash
# Builds llama.cpp's own `llama-bench` from the llama.cpp source that ships inside the installed
# node-llama-cpp package (llama/gitRelease.bundle), so the model benchmark can compare
# node-llama-cpp with the same engine run natively. The build is cached outside the repository
# and is not needed for anything else: when it is absent the comparison is skipped.
#
#   bash scripts/build-llama-bench.sh        # prints the binary's path on its last line
#
# Idempotent: when the binary exists it only prints its path. CPU only (no CUDA/Vulkan/Metal).
# Build flags, matched to node-llama-cpp's prebuilt linux-x64 binary where it matters for speed:
#   - GGML_OPENMP=OFF: the prebuilt is built without OpenMP (ggml's own thread pool); llama.cpp's
#     default is ON, which schedules threads differently and would not be a same-engine baseline.
#   - GGML_NATIVE=ON: the prebuilt is GGML_NATIVE=OFF with GGML_CPU_ALL_VARIANTS + GGML_BACKEND_DL
#     (14 CPU variants, the best one picked at load time); building all of them takes many times
#     longer, so this builds the one variant for this CPU, which uses the same kernels.
# Environment:
#   LLAMA_BENCH_CACHE_DIR  where to clone and build (default
#                          ${XDG_CACHE_HOME:-$HOME/.cache}/gryphgen/llama-bench/<release tag>)
#   LLAMA_BENCH_JOBS       parallel compile jobs (default: the number of online CPUs)
#   LLAMA_BENCH_CMAKE_ARGS extra cmake -D options, space separated (e.g. -DGGML_OPENMP=ON)
# Exit codes: 0 built or already there, 1 build failed, 2 a tool or the package is missing.
set -euo pipefail

log() { printf 'build-llama-bench: %s\n' "$*" >&2; }
fail() { log "$2"; exit "$1"; }

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
llama_dir="$repo_root/node_modules/node-llama-cpp/llama"
bundle="$llama_dir/gitRelease.bundle"
info="$llama_dir/llama.cpp.info.json"
[[ -f $bundle && -f $info ]] || fail 2 "node-llama-cpp's llama.cpp source bundle is missing ($bundle): run npm ci first"

tag=$(sed -n 's/.*"tag"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p' "$info" | head -n 1)
[[ -n $tag ]] || fail 2 "no release tag in $info"

cache_dir=${LLAMA_BENCH_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/gryphgen/llama-bench/$tag}
src_dir="$cache_dir/src"
build_dir="$cache_dir/build"
binary="$build_dir/bin/llama-bench"

if [[ -x $binary ]]; then
  echo "$binary"
  exit 0
fi

for tool in git cmake make cc c++; do
  command -v "$tool" >/dev/null 2>&1 || fail 2 "'$tool' is required but not installed (e.g. apt-get install git cmake make gcc g++)"
done

mkdir -p "$cache_dir"
# Two runs at once would clone and build over each other: take a lock when flock exists.
if command -v flock >/dev/null 2>&1; then
  exec 9>"$cache_dir/.lock"
  flock 9
  if [[ -x $binary ]]; then
    echo "$binary"
    exit 0
  fi
fi

if [[ ! -d $src_dir/.git ]]; then
  log "cloning llama.cpp $tag from $bundle into $src_dir"
  rm -rf "$src_dir.partial"
  git clone --quiet --no-checkout "$bundle" "$src_dir.partial"
  # The bundle holds the release as its HEAD; the tag itself is usually not in it.
  if git -C "$src_dir.partial" rev-parse --verify --quiet "refs/tags/$tag" >/dev/null; then
    ref="refs/tags/$tag"
  else
    ref=HEAD
    log "tag $tag is not in the bundle; using the bundle's HEAD, which is that release"
  fi
  git -C "$src_dir.partial" -c advice.detachedHead=false checkout --quiet --detach "$ref"
  mv "$src_dir.partial" "$src_dir"
fi

jobs=${LLAMA_BENCH_JOBS:-$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)}
# shellcheck disable=SC2206 # word splitting of the extra options is intended
extra_args=(${LLAMA_BENCH_CMAKE_ARGS:-})

log "configuring (Release, CPU only, GGML_NATIVE=ON, GGML_OPENMP=OFF) in $build_dir"
cmake -S "$src_dir" -B "$build_dir" -Wno-dev \
  -DCMAKE_BUILD_TYPE=Release \
  -DGGML_NATIVE=ON -DGGML_OPENMP=OFF \
  -DGGML_CUDA=OFF -DGGML_VULKAN=OFF -DGGML_METAL=OFF -DGGML_HIP=OFF -DGGML_SYCL=OFF -DGGML_RPC=OFF \
  -DGGML_CCACHE=OFF -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF \
  -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF -DLLAMA_BUILD_TOOLS=ON \
  "${extra_args[@]}" >&2 || fail 1 "cmake configure failed (see above)"

log "building llama-bench with $jobs jobs (several minutes on 2 cores)"
cmake --build "$build_dir" --config Release --target llama-bench -j "$jobs" >&2 || fail 1 "build failed (see above)"

[[ -x $binary ]] || fail 1 "build finished but $binary is missing"
echo "$binary"
