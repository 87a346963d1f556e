#!/usr/bin/env bash
# The GPU run of bench/gpu_bench.py on a bare GPU server (../shared/GPU.md) that files reach in
# parts of at most ~60 MB: the CUDA provider alone is 186 MB compressed. Each call of the
# device tool carries one part and runs one verb; the Python phases start in the background
# as soon as their files are there, so that they run while the rest is still arriving.
#
#   bench/gpu_session.sh receive DIR   copies a carried folder's files into the stage folder
#   bench/gpu_session.sh start         checks the machine, installs the carried wheels and starts
#                                      `gpu_bench.py models` then `peer` in the background
#   bench/gpu_session.sh status        the background log's tail
#   bench/gpu_session.sh finish OUT    assembles the bundle and the CUDA provider, waits for the
#                                      background, runs `gpu_bench.py glimpse`, then `report`;
#                                      results and logs go to OUT
#   bench/gpu_session.sh issue19 OUT   issue 19 instead of `finish` (docs/gpu.md, "Issue 19 on a
#                                      GPU"): assembles the bundle, waits for the background (the
#                                      seed stack), then `gpu_issue19.py check` (nvJPEG and the
#                                      preprocessing graph against the CPU paths, first), `variants`
#                                      (the starting point, then each GPU path) and `report`;
#                                      each step under its own `timeout`, about 6 minutes in all
#
# What the parts are and how they are made: bench/README.md, "On a GPU".
set -uo pipefail

STAGE=${GLIMPSE_GPU_STAGE:-/root/glimpse-gpu}
WORK=$STAGE/work
SITE=$STAGE/site
mkdir -p "$STAGE" "$WORK"
say() { printf '[gpu-session %s] %s\n' "$(date +%T)" "$*"; }

receive() {
  cp -a "$1"/. "$STAGE"/ && say "received $(ls "$1" | tr '\n' ' ')"
}

start() {
  nvidia-smi --query-gpu=name,driver_version,memory.total,memory.used,clocks.sm --format=csv
  say "cores $(nproc), $(python3 --version), $(command -v zstd || echo 'no zstd: using the carried one')"
  python3 -c 'import torch; print("torch", torch.__version__, torch.cuda.get_device_name(0))'
  say "TensorRT: $(ldconfig -p | grep -c libnvinfer) libnvinfer entries in ldconfig"
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$SITE" \
    "$STAGE"/whl/*.whl || return 1
  # The bench folder as this call's tree has it: later calls may carry another working tree.
  rm -rf "$STAGE/bench" && cp -a bench "$STAGE/bench"
  say "background: models, then the seed stack (log: $WORK/background.log)"
  setsid nohup bash -c "
    export PYTHONPATH=$SITE PYTHONUNBUFFERED=1
    cd $STAGE
    python3 bench/gpu_bench.py models --work $WORK --vocab $STAGE/bpe_simple_vocab_16e6.txt.gz &&
      python3 bench/gpu_bench.py peer --work $WORK
    echo \$? > $WORK/background.rc" >"$WORK/background.log" 2>&1 </dev/null &
}

zstd_tool() {
  if command -v zstd >/dev/null; then zstd "$@"; else LD_LIBRARY_PATH=$STAGE/whl "$STAGE/whl/zstd" "$@"; fi
}

assemble() {
  local bundle=$STAGE/glimpse-linux-x86_64
  [ -x "$bundle/glimpse" ] || zstd_tool -d -q -c "$STAGE/glimpse-linux-x86_64.tar.zst" | tar -C "$STAGE" -xf - || return 1
  if [ ! -f "$bundle/lib/libonnxruntime_providers_cuda.so" ]; then
    # Compressed with --ultra -22 --long=28: decoding needs the same window.
    cat "$STAGE"/cuda.zst.part-* | zstd_tool -d -q --long=28 -o "$bundle/lib/libonnxruntime_providers_cuda.so" || return 1
  fi
  say "bundle: $(du -sh "$bundle" | cut -f1); libraries the CUDA provider cannot find:"
  # The same folders the bundle's launcher adds: the nvidia-* pip packages' lib folders.
  local nvidia
  nvidia=$(python3 -c 'import glob, os, site
print(":".join(sorted(f for p in site.getsitepackages() for f in glob.glob(os.path.join(p, "nvidia", "*", "lib")))))')
  LD_LIBRARY_PATH=$bundle/lib:$nvidia ldd "$bundle/lib/libonnxruntime_providers_cuda.so" | grep 'not found' || echo none
  "$bundle/glimpse" info
}

wait_background() {
  local waited=0
  while [ ! -f "$WORK/background.rc" ] && [ $waited -lt 400 ]; do sleep 2; waited=$((waited + 2)); done
  say "background finished with $(cat "$WORK/background.rc" 2>/dev/null || echo 'nothing (still running)') after waiting ${waited} s"
  tail -n 15 "$WORK/background.log"
}

finish() {
  local out=$1 bundle=$STAGE/glimpse-linux-x86_64
  assemble || return 1
  wait_background
  export PYTHONPATH=$SITE PYTHONUNBUFFERED=1
  rm -rf "$STAGE/bench" && cp -a bench "$STAGE/bench"  # this call's version of the scripts
  (cd "$STAGE" && python3 bench/gpu_bench.py glimpse --work "$WORK" --glimpse "$bundle/glimpse" \
    --detector "$STAGE/yolov8n.onnx" 2>&1 | tee "$WORK/glimpse.log" | grep -v '^\[' | tail -n 40)
  (cd "$STAGE" && python3 bench/gpu_bench.py report --work "$WORK") | tee "$WORK/report.md"
  cp "$WORK"/peer.json "$WORK"/glimpse.json "$WORK"/report.md "$WORK"/background.log "$WORK"/glimpse.log "$out"/ 2>/dev/null
  tar -C "$WORK" -czf "$out/serve-logs.tar.gz" $(cd "$WORK" && ls serve-*.log 2>/dev/null)
}

issue19() {
  local out=$1 bundle=$STAGE/glimpse-linux-x86_64
  # nvJPEG from the carried nvidia-nvjpeg wheel (the machine's torch does not bring it).
  local carried
  carried=$(ls -d "$SITE"/nvidia/*/lib 2>/dev/null | tr '\n' ':')
  export LD_LIBRARY_PATH="${carried}${LD_LIBRARY_PATH:-}"
  assemble || return 1
  say "nvJPEG candidates: $(ls "$SITE"/nvidia/*/lib/libnvjpeg* 2>/dev/null | tr '\n' ' ')"
  wait_background
  export PYTHONPATH=$SITE PYTHONUNBUFFERED=1
  rm -rf "$STAGE/bench" "$STAGE/Tests" && cp -a bench "$STAGE/bench" && mkdir -p "$STAGE/Tests/ImagingTests/Fixtures" &&
    cp -a Tests/ImagingTests/Fixtures/generated "$STAGE/Tests/ImagingTests/Fixtures/"
  local run=(python3 bench/gpu_issue19.py --work "$WORK" --glimpse "$bundle/glimpse" --detector "$STAGE/yolov8n.onnx")
  (cd "$STAGE" && timeout 150 "${run[@]:0:2}" check "${run[@]:2}" 2>&1 | tail -n 5)
  (cd "$STAGE" && timeout 420 "${run[@]:0:2}" variants "${run[@]:2}" 2>&1 | grep -v '^\[' | tail -n 20)
  (cd "$STAGE" && python3 bench/gpu_issue19.py report --work "$WORK") | tee "$WORK/issue19.md"
  (cd "$STAGE" && python3 bench/gpu_bench.py report --work "$WORK") | tee -a "$WORK/issue19.md"
  cp "$WORK"/issue19.json "$WORK"/issue19.md "$WORK"/peer.json "$WORK"/background.log "$out"/ 2>/dev/null
  tar -C "$WORK" -czf "$out/serve-logs.tar.gz" $(cd "$WORK" && ls serve-*.log 2>/dev/null)
}

case "${1:-}" in
  receive) receive "$2" ;;
  start) start ;;
  status) tail -n "${2:-8}" "$WORK/background.log" 2>/dev/null; cat "$WORK/background.rc" 2>/dev/null ;;
  finish) finish "$2" ;;
  issue19) issue19 "$2" ;;
  *) sed -n '2,22p' "$0"; exit 2 ;;
esac
