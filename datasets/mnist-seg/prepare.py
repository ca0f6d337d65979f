"""Build the mnist-seg semantic-segmentation dataset from the gzip IDX files in datasets/mnist/.

Every canvas is a 64x64 8-bit grayscale image on a black background holding 1..=4 MNIST digits
(count uniform), each scaled by bilinear resampling (pixel-centre aligned, edges clamped, exact
integer arithmetic, rounded half up) from 28x28 to a random square side in [20, 40] px and placed
at a random integer position fully inside the canvas. Digits are composited by per-pixel max of
ink. The label map has the same size:

    0        background (winning ink < 48, or no digit)
    1..10    digit class + 1 (winning ink >= 128)
    255      boundary, ignored (winning ink in [48, 128)), like PASCAL VOC's void border

Where digits overlap, a pixel belongs to the digit with the larger ink there; ties go to the digit
drawn later. The winning ink is exactly the image's pixel value, so image and label always agree.

Train canvases use only training digits, test canvases only test digits. Each split has its own
random.Random: seed for train, seed + 1 for test. Per canvas the draws are, in this order:
count = randint(1, 4); then per digit: index = randrange(len(split)), side = randint(20, 40),
x = randint(0, 64 - side), y = randint(0, 64 - side). Digits are drawn in that order.

PNGs are written by the minimal writer below (IHDR bit depth 8, colour type 0, filter 0 on every
row, one IDAT made with zlib.compress(level 9)), so the output is byte-for-byte reproducible.
Standard library only.
"""
import argparse
import gzip
import json
import random
import struct
import zlib
from pathlib import Path

CANVAS = 64
SRC = 28
MIN_SIDE, MAX_SIDE = 20, 40
MAX_DIGITS = 4
INK_CLASS = 128
INK_BOUNDARY = 48
IGNORE = 255
LABEL_VALUES = list(range(11)) + [IGNORE]


def read_idx(path: Path, ndim: int):
    data = gzip.open(path, "rb").read()
    zero, dtype, dims = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype != 0x08 or dims != ndim:
        raise SystemExit(f"{path}: not a ubyte IDX file with {ndim} dimension(s)")
    shape = struct.unpack(f">{ndim}I", data[4:4 + 4 * ndim])
    payload = data[4 + 4 * ndim:]
    size = 1
    for d in shape:
        size *= d
    if len(payload) != size:
        raise SystemExit(f"{path}: {len(payload)} bytes of data, header says {size}")
    return shape, payload


def load_split(mnist: Path, prefix: str):
    (n, rows, cols), pixels = read_idx(mnist / f"{prefix}-images-idx3-ubyte.gz", 3)
    (m,), labels = read_idx(mnist / f"{prefix}-labels-idx1-ubyte.gz", 1)
    if (rows, cols) != (SRC, SRC) or n != m:
        raise SystemExit(f"{prefix}: {n} images of {rows}x{cols} but {m} labels")
    images = [pixels[i * SRC * SRC:(i + 1) * SRC * SRC] for i in range(n)]
    return images, list(labels)


def resample_axis(side: int):
    """Per output index o: (lower source index, upper source index, weight of upper in 1/(2*side)).

    Pixel-centre aligned: the source coordinate is (o + 0.5) * 28 / side - 0.5, clamped to [0, 27],
    kept as the exact fraction num / (2 * side) so that no float rounding enters.
    """
    den = 2 * side
    taps = []
    for o in range(side):
        num = min(max((2 * o + 1) * SRC - side, 0), (SRC - 1) * den)
        lo = num // den
        taps.append((lo, min(lo + 1, SRC - 1), num - lo * den))
    return taps


def bilinear(img: bytes, side: int):
    """28x28 bytes -> side x side list of ints in 0..255: bilinear, edge clamped, exact, rounded half up."""
    den = 2 * side
    den2 = den * den
    taps = resample_axis(side)
    out = []
    for y0, y1, fy in taps:
        r0, r1 = y0 * SRC, y1 * SRC
        for x0, x1, fx in taps:
            top = img[r0 + x0] * (den - fx) + img[r0 + x1] * fx
            bottom = img[r1 + x0] * (den - fx) + img[r1 + x1] * fx
            out.append((2 * (top * (den - fy) + bottom * fy) + den2) // (2 * den2))
    return out


def make_canvas(rng: random.Random, images, labels):
    ink = [0] * (CANVAS * CANVAS)
    winner = [-1] * (CANVAS * CANVAS)  # digit class of the winning digit, -1 where none
    for _ in range(rng.randint(1, MAX_DIGITS)):
        index = rng.randrange(len(images))
        side = rng.randint(MIN_SIDE, MAX_SIDE)
        x = rng.randint(0, CANVAS - side)
        y = rng.randint(0, CANVAS - side)
        digit = bilinear(images[index], side)
        cls = labels[index]
        for r in range(side):
            base = (y + r) * CANVAS + x
            row = digit[r * side:(r + 1) * side]
            for c, v in enumerate(row):
                if v >= ink[base + c]:  # ties: the digit drawn later wins
                    ink[base + c] = v
                    winner[base + c] = cls
    label = bytearray(CANVAS * CANVAS)
    for i, v in enumerate(ink):
        if v >= INK_CLASS:
            label[i] = winner[i] + 1
        elif v >= INK_BOUNDARY:
            label[i] = IGNORE
    return bytes(ink), bytes(label)


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def encode_png(pixels: bytes, width: int, height: int) -> bytes:
    raw = b"".join(b"\x00" + pixels[r * width:(r + 1) * width] for r in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr)
            + png_chunk(b"IDAT", zlib.compress(raw, 9)) + png_chunk(b"IEND", b""))


def build_split(name: str, count: int, seed: int, images, labels, out: Path):
    if count > 100000:
        raise SystemExit(f"{name}: at most 100000 canvases (five-digit file names)")
    dirs = {kind: out / name / kind for kind in ("images", "labels")}
    for d in dirs.values():
        d.mkdir(parents=True, exist_ok=True)
        for stale in d.glob("[0-9][0-9][0-9][0-9][0-9].png"):
            if int(stale.stem) >= count:
                stale.unlink()
    rng = random.Random(seed)
    hist = {v: 0 for v in LABEL_VALUES}
    for i in range(count):
        image, label = make_canvas(rng, images, labels)
        for v in LABEL_VALUES:
            hist[v] += label.count(v)
        (dirs["images"] / f"{i:05d}.png").write_bytes(encode_png(image, CANVAS, CANVAS))
        (dirs["labels"] / f"{i:05d}.png").write_bytes(encode_png(label, CANVAS, CANVAS))
    total = count * CANVAS * CANVAS
    print(f"{name}: {count} canvases from {len(images)} digits, label pixels "
          + ", ".join(f"{v}={100 * hist[v] / total:.2f}%" for v in LABEL_VALUES))
    return {"canvases": count, "seed": seed, "source_digits": len(images),
            "pixels": {str(v): hist[v] for v in LABEL_VALUES}}


def main():
    here = Path(__file__).resolve().parent
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--train", type=int, default=2000, help="train canvases (default 2000)")
    ap.add_argument("--test", type=int, default=500, help="test canvases (default 500)")
    ap.add_argument("--seed", type=int, default=0, help="train uses seed, test seed + 1 (default 0)")
    ap.add_argument("--mnist", type=Path, default=here.parent / "mnist", help="folder with the MNIST IDX .gz files")
    ap.add_argument("--out", type=Path, default=here, help="output folder (default: this script's folder)")
    args = ap.parse_args()
    stats = {
        "canvas": [CANVAS, CANVAS],
        "label_values": {"0": "background", "1..10": "digit + 1", "255": "boundary (ignore)"},
    }
    for name, prefix, count, seed in (("train", "train", args.train, args.seed),
                                      ("test", "t10k", args.test, args.seed + 1)):
        images, labels = load_split(args.mnist, prefix)
        stats[name] = build_split(name, count, seed, images, labels, args.out)
    (args.out / "stats.json").write_text(json.dumps(stats, indent=2) + "\n")


if __name__ == "__main__":
    main()
