#!/usr/bin/env bash
# Accelerator parity on one GPU in under five minutes: the layer and transfer suites with torch:cpu
# against torch:cuda in fp32 and tf32, one VGG16 trial at the smoke budget on the GPU, the transfer
# suite of torch:cuda against Keras on JAX on the GPU (where Keras is there), and the CSV report;
# prints a summary. Needs torch (and torchvision) with CUDA; neither TensorFlow nor Keras
# (their tests skip, naming what is missing). The project need not be installed: the repository is
# put on PYTHONPATH and the plugin loaded with -p cwtest.session.plugin.
#
#   scripts/gpu_check.sh [REPORT_FOLDER] [extra pytest arguments...]
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$repo/reports/gpu_check}"
[ $# -gt 0 ] && shift
mkdir -p "$out"
python="${PYTHON:-python3}"
export PYTHONPATH="$repo${PYTHONPATH:+:$PYTHONPATH}"
cd "$repo"

"$python" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else "gpu_check: torch sees no CUDA device")'

run() {  # run NAME PAIR ARGS...: one pytest session, its report at $out/NAME.csv, its output at NAME.log
    local name="$1" pair="$2"
    shift 2
    echo "== $name: $pair"
    "$python" -m pytest -p cwtest.session.plugin -p no:cacheprovider -q -rfE --crossedwires-pair "$pair" \
        --crossedwires-report "$out/$name.csv" "$@" >"$out/$name.log" 2>&1 || status=1
    grep -E '^(FAILED|ERROR) |^=+ .* in [0-9.]+s' "$out/$name.log" || true  # the failures and the tally
}

status=0
# Hypothesis examples are few in the default profile; the transfer suite's device tests are what
# compares whole models. The cross-framework transfer tests skip without TensorFlow.
for mode in fp32 tf32; do
    run "layers_$mode" "torch:cpu,torch:cuda:$mode" suites/layers/test_blocks.py "$@"
    run "transfer_$mode" "torch:cpu,torch:cuda:$mode" suites/transfer/test_devices.py "$@"
done
run trial_vgg16 "torch:cpu,torch:cuda" suites/trials/test_training.py --crossedwires-arch vgg16 \
    --crossedwires-select top:1 --crossedwires-budget smoke -k harmonized "$@"
# torch against Keras on JAX on the GPU (needs keras and jax; ../shared/docs/gpu.md carries Keras there), in fp32:
# TF32 off in torch, JAX matmuls at "float32" (full fp32, "highest" in later JAX releases). With CWTEST_CIFAR10 set (a cifar-10-batches-py folder), also the
# top published DenseNet121 trial at the full budget: both accuracies, each side's images/s and the wall time,
# against the trial's recorded V100 Runtime (the report's recorded_* columns).
if "$python" -c 'import keras, jax' 2>/dev/null; then
    run transfer_keras_jax "torch:cuda,keras-jax:gpu" suites/transfer --crossedwires-arch all "$@"
    if [ -n "${CWTEST_CIFAR10:-}" ]; then
        run trial_densenet121_full "torch:cuda,keras-jax:gpu" suites/trials/test_training.py --crossedwires-arch densenet121 \
            --crossedwires-select name:dual_train_a0e76fd4 --crossedwires-budget full --crossedwires-data "$CWTEST_CIFAR10" \
            -k published "$@"
    fi
else
    echo "== torch:cuda,keras-jax:gpu: skipped (keras and jax are not importable: see ../shared/docs/gpu.md)"
fi

"$python" - "$out" <<'PY'
import csv, sys
from pathlib import Path

rows = [row for path in sorted(Path(sys.argv[1]).glob("*.csv")) for row in csv.DictReader(open(path))]
print(f"\n{'test':<72} {'outcome':<8} {'precision':<32} max abs (eval, data)")
for row in rows:
    print(f"{row['nodeid'][-72:]:<72} {row['outcome']:<8} {row['precision'][:32]:<32} "
          f"{row.get('eval_data_max_abs') or row.get('max_abs_error') or '-'}")
print({o: sum(r["outcome"] == o for r in rows) for o in sorted({r["outcome"] for r in rows})})
PY
exit "$status"
