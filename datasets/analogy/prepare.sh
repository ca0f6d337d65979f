#!/usr/bin/env bash
# Regenerates datasets/analogy/questions-words.txt (Google's word2vec analogy test set) and
# README.md from the PyPI wheel of gensim (pinned version and wheel hash), which ships the file
# as gensim/test/test_data/questions-words.txt. Needs pip (PyPI access) and python3 (stdlib only).
# Only the wheel is unzipped; nothing is installed. Output is byte-for-byte reproducible.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

GENSIM_VERSION=4.4.0
# Any gensim wheel holds the same text file; pin one wheel so the download is the same everywhere.
WHEEL=gensim-4.4.0-cp311-cp311-manylinux_2_24_x86_64.manylinux_2_28_x86_64.whl
WHEEL_SHA256=91a7fa5e814e7b1bad4b2dffa8d62c1e55410d5cbdf930714c1997ffb4404db8

python3 -m pip download "gensim==$GENSIM_VERSION" --no-deps --only-binary=:all: \
    --python-version 3.11 --implementation cp --abi cp311 --platform manylinux_2_28_x86_64 \
    --quiet -d "$work"
echo "$WHEEL_SHA256  $work/$WHEEL" | sha256sum -c --quiet -
python3 "$here/prepare.py" "$work/$WHEEL" "$GENSIM_VERSION" "$here"
echo "wrote $here/questions-words.txt, README.md"
