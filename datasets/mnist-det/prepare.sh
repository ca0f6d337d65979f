#!/usr/bin/env bash
# Regenerates datasets/mnist-det/{train,test}/, annotations/ and stats.json from datasets/mnist/ (python3, standard library only; byte-for-byte reproducible).
set -euo pipefail
python3 "$(cd "$(dirname "$0")" && pwd)/prepare.py" "$@"
