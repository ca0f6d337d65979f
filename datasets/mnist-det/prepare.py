"""Build the mnist-det object-detection dataset (COCO format) from the gzip IDX files in datasets/mnist/.

Every canvas is a 128x128 8-bit grayscale PNG on a black background holding 1..=8 MNIST digits
(count uniform), each scaled by bilinear resampling (pixel-centre aligned, edges clamped, exact
integer arithmetic, rounded half up; the resampler of ../mnist-seg/prepare.py) from 28x28 to a
random square side in [12, 64] px, placed at a random integer position fully inside the canvas and
composited by per-pixel max of ink. A digit's box is the extent of its own scaled ink >= 48 (the
faint anti-aliased halo below that is not counted), as COCO [x, y, width, height] in pixels with
the right and bottom pixel included, so a box one pixel wide has width 1.

Placements are drawn until the new digit's box overlaps every earlier box with IoU <= 0.5 (at most
50 draws; a digit that finds no such place is dropped), so digits do overlap, as objects in a
crowd do, without one covering another.

Train canvases use only training digits, test canvases only test digits. Each split has its own
random.Random: seed for train, seed + 1 for test. Per canvas the draws are, in this order:
count = randint(1, 8); then per digit: index = randrange(len(split)), side = randint(12, 64), then
repeatedly x = randint(0, 128 - side), y = randint(0, 128 - side) until the placement is accepted.

Annotations are COCO instances JSON (images, annotations with bbox, area = w * h, iscrowd = 0,
categories with id = digit + 1 and name = the digit), written with sorted keys and no spaces, so
the output is byte-for-byte reproducible. Standard library only.
"""
import argparse
import json
import random
import sys
from pathlib import Path

# The IDX reader, the exact integer resampler and the minimal PNG writer are mnist-seg's: one
# implementation, so both datasets resample digits identically.
sys.dont_write_bytecode = True  # leave no __pycache__ in the dataset folders
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "mnist-seg"))
from prepare import bilinear, encode_png, load_split  # noqa: E402

CANVAS = 128
MIN_SIDE, MAX_SIDE = 12, 64
MAX_DIGITS = 8
INK = 48
MAX_OVERLAP = 0.5
TRIES = 50


def ink_extent(digit, side):
    """(x0, y0, x1, y1) of the pixels >= INK, inclusive, within the side x side digit; None if none."""
    rows = [r for r in range(side) if any(v >= INK for v in digit[r * side:(r + 1) * side])]
    cols = [c for c in range(side) if any(digit[r * side + c] >= INK for r in range(side))]
    if not rows:
        return None
    return cols[0], rows[0], cols[-1], rows[-1]


def iou(a, b):
    """IoU of two inclusive pixel boxes (x0, y0, x1, y1)."""
    w = min(a[2], b[2]) - max(a[0], b[0]) + 1
    h = min(a[3], b[3]) - max(a[1], b[1]) + 1
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    area = lambda r: (r[2] - r[0] + 1) * (r[3] - r[1] + 1)  # noqa: E731
    return inter / (area(a) + area(b) - inter)


def make_canvas(rng, images, labels):
    ink = [0] * (CANVAS * CANVAS)
    objects = []  # (class, inclusive box on the canvas)
    for _ in range(rng.randint(1, MAX_DIGITS)):
        index = rng.randrange(len(images))
        side = rng.randint(MIN_SIDE, MAX_SIDE)
        digit = bilinear(images[index], side)
        extent = ink_extent(digit, side)
        placed = None
        for _ in range(TRIES):
            x = rng.randint(0, CANVAS - side)
            y = rng.randint(0, CANVAS - side)
            if extent is None:
                break
            box = (x + extent[0], y + extent[1], x + extent[2], y + extent[3])
            if all(iou(box, other) <= MAX_OVERLAP for _, other in objects):
                placed = (x, y, box)
                break
        if placed is None:
            continue
        x, y, box = placed
        for r in range(side):
            base = (y + r) * CANVAS + x
            for c, v in enumerate(digit[r * side:(r + 1) * side]):
                if v > ink[base + c]:
                    ink[base + c] = v
        objects.append((labels[index], box))
    return bytes(ink), objects


def build_split(name, count, seed, images, labels, out):
    if count > 100000:
        raise SystemExit(f"{name}: at most 100000 canvases (five-digit file names)")
    folder = out / name
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("[0-9][0-9][0-9][0-9][0-9].png"):
        if int(stale.stem) >= count:
            stale.unlink()
    rng = random.Random(seed)
    coco = {
        "info": {"description": f"mnist-det {name}: MNIST digits on {CANVAS}x{CANVAS} canvases", "version": "1"},
        "licenses": [{"id": 1, "name": "CC BY-SA 3.0", "url": "https://creativecommons.org/licenses/by-sa/3.0/"}],
        "images": [],
        "annotations": [],
        "categories": [{"id": d + 1, "name": str(d), "supercategory": "digit"} for d in range(10)],
    }
    sizes = {"small": 0, "medium": 0, "large": 0}
    crowded = 0
    for i in range(count):
        pixels, objects = make_canvas(rng, images, labels)
        file_name = f"{i:05d}.png"
        (folder / file_name).write_bytes(encode_png(pixels, CANVAS, CANVAS))
        coco["images"].append({"id": i + 1, "file_name": file_name, "width": CANVAS, "height": CANVAS, "license": 1})
        boxes = [box for _, box in objects]
        crowded += any(iou(a, b) > 0 for j, a in enumerate(boxes) for b in boxes[j + 1:])
        for cls, (x0, y0, x1, y1) in objects:
            w, h = x1 - x0 + 1, y1 - y0 + 1
            area = w * h
            sizes["small" if area < 32 * 32 else "medium" if area < 96 * 96 else "large"] += 1
            coco["annotations"].append({
                "id": len(coco["annotations"]) + 1, "image_id": i + 1, "category_id": cls + 1,
                "bbox": [x0, y0, w, h], "area": area, "iscrowd": 0,
            })
    annotations = out / "annotations"
    annotations.mkdir(parents=True, exist_ok=True)
    (annotations / f"instances_{name}.json").write_text(json.dumps(coco, sort_keys=True, separators=(",", ":")) + "\n")
    n = len(coco["annotations"])
    print(f"{name}: {count} canvases, {n} digits ({n / count:.2f} per canvas) from {len(images)} source digits; "
          f"{crowded} canvases with overlapping boxes; small/medium/large {sizes['small']}/{sizes['medium']}/{sizes['large']}")
    return {"canvases": count, "seed": seed, "source_digits": len(images), "objects": n,
            "canvases_with_overlap": crowded, "object_sizes": sizes}


def main():
    here = Path(__file__).resolve().parent
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--train", type=int, default=2000, help="train canvases (default 2000)")
    ap.add_argument("--test", type=int, default=500, help="test canvases (default 500)")
    ap.add_argument("--seed", type=int, default=0, help="train uses seed, test seed + 1 (default 0)")
    ap.add_argument("--mnist", type=Path, default=here.parent / "mnist", help="folder with the MNIST IDX .gz files")
    ap.add_argument("--out", type=Path, default=here, help="output folder (default: this script's folder)")
    args = ap.parse_args()
    stats = {"canvas": [CANVAS, CANVAS], "digit_side": [MIN_SIDE, MAX_SIDE], "max_digits": MAX_DIGITS}
    for name, prefix, count, seed in (("train", "train", args.train, args.seed),
                                      ("test", "t10k", args.test, args.seed + 1)):
        images, labels = load_split(args.mnist, prefix)
        stats[name] = build_split(name, count, seed, images, labels, args.out)
    (args.out / "stats.json").write_text(json.dumps(stats, indent=2) + "\n")


if __name__ == "__main__":
    main()
