#!/bin/bash
# Does the reference model learn each language preset? Per language: render 100,000 training and 1,000 test
# lines, train `small` for 1,500 steps (16 minutes at most, the cosine protocol), then read the test lines
# with the run (greedy) and with Tesseract in that language. Run from the repository root:
#     bash benchmarks/language_runs.sh [ru hi el ar zh]
# Needs `make test`'s venv, and for the Tesseract column: apt-get install tesseract-ocr-rus tesseract-ocr-hin
# tesseract-ocr-ell tesseract-ocr-ara tesseract-ocr-chi-sim. Writes data/LANG-train, data/LANG-test, runs/lang-LANG and
# runs/lang-LANG/{eval,tesseract}.json; prints one line per language.
set -u
P=${PYTHON:-.venv/bin/python}
mkdir -p data runs
for L in "${@:-ru hi el ar}"; do
  for L in $L; do
    [ -f data/$L-train/manifest.json ] || $P -m textsynth render --n 100000 --seed 1 --language $L --out data/$L-train --quiet
    [ -f data/$L-test/manifest.json ] || $P -m textsynth render --n 1000 --seed 2 --language $L --out data/$L-test --quiet
    $P -m reference_model train --data data/$L-train --val-fraction 0.02 --arch small --epochs 10 \
        --steps-per-epoch 150 --lr-schedule cosine --warmup-steps 100 --learning-rate 2e-3 --max-minutes 16 \
        --val-samples 500 --out runs/lang-$L > runs/lang-$L.log 2>&1
    $P -m reference_model evaluate --model runs/lang-$L --data data/$L-test --json > runs/lang-$L/eval.json
    $P -m reference_model evaluate --engine tesseract --data data/$L-test --json > runs/lang-$L/tesseract.json || true
    $P - "$L" <<'PY'
import json, sys
lang = sys.argv[1]
model = json.load(open(f"runs/lang-{lang}/eval.json"))
try:
    tess = json.load(open(f"runs/lang-{lang}/tesseract.json"))
    other = f"Tesseract CER {100 * tess['cer']:.1f} %, exact {100 * tess['exact']:.1f} %"
except (OSError, ValueError):
    other = "Tesseract: not run"
print(f"{lang}: model CER {100 * model['cer']:.1f} %, exact {100 * model['exact']:.1f} %; {other}")
PY
  done
done
