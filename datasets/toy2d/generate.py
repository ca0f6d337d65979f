#!/usr/bin/env python3
"""Writes four 2-D toy densities as CSV point clouds, the format kiln's `points` dataset reads
(a folder with train.csv, optional valid.csv and test.csv; a header line, then one point per
line, any number of numeric columns):

  two_moons/        sklearn-style make_moons, noise 0.1, then p*2 + (-1, -0.2)
  eight_gaussians/  N(0, 0.5^2) around 4*(cos(k*pi/4), sin(k*pi/4)), k=0..7, then /1.414
  checkerboard/     a 4x4 board of alternating unit squares, scaled by 2
  swiss_roll/       sklearn-style make_swiss_roll, noise 1.0, (x, z) kept, then /5

These follow the usual definitions of the toy data in FFJORD (Grathwohl et al. 2019),
implemented here from the formulas. Each folder has train.csv (20,000 points) and test.csv
(5,000 points), every split drawn from its own random.Random stream whose seed comes from a
fixed base seed and a fixed per-density constant (never Python's salted hash()), so the same
script writes the same bytes on any Python 3.

Usage: python3 datasets/toy2d/generate.py [OUTPUT_ROOT]   (default: this script's folder)
"""
import math
import random
import sys
from pathlib import Path

BASE_SEED = 2019  # Grathwohl et al.
SIZES = {"train": 20000, "test": 5000}
# Stable per-density and per-split constants; changing them changes the data.
DENSITY_IDS = {"two_moons": 1, "eight_gaussians": 2, "checkerboard": 3, "swiss_roll": 4}
SPLIT_IDS = {"train": 1, "test": 2}


def seed_for(name, split):
    return BASE_SEED * 1000 + DENSITY_IDS[name] * 10 + SPLIT_IDS[split]


def two_moons(rng):
    theta = rng.uniform(0.0, math.pi)
    if rng.random() < 0.5:  # outer moon
        x, y = math.cos(theta), math.sin(theta)
    else:  # inner moon
        x, y = 1.0 - math.cos(theta), 1.0 - math.sin(theta) - 0.5
    x += rng.gauss(0.0, 0.1)
    y += rng.gauss(0.0, 0.1)
    return x * 2.0 - 1.0, y * 2.0 - 0.2


EIGHT_CENTRES = [(4.0 * math.cos(k * math.pi / 4), 4.0 * math.sin(k * math.pi / 4)) for k in range(8)]


def eight_gaussians(rng):
    cx, cy = EIGHT_CENTRES[rng.randrange(8)]
    x = rng.gauss(0.0, 1.0) * 0.5 + cx
    y = rng.gauss(0.0, 1.0) * 0.5 + cy
    return x / 1.414, y / 1.414


def checkerboard(rng):
    x1 = rng.random() * 4.0 - 2.0
    x2_ = rng.random() - rng.randint(0, 1) * 2.0
    x2 = x2_ + (math.floor(x1) % 2)
    return x1 * 2.0, x2 * 2.0


def swiss_roll(rng):
    t = 1.5 * math.pi * (1.0 + 2.0 * rng.random())
    x = t * math.cos(t) + rng.gauss(0.0, 1.0)
    z = t * math.sin(t) + rng.gauss(0.0, 1.0)
    return x / 5.0, z / 5.0


DENSITIES = {
    "two_moons": two_moons,
    "eight_gaussians": eight_gaussians,
    "checkerboard": checkerboard,
    "swiss_roll": swiss_roll,
}


def write_split(path, sample, rng, n):
    lines = ["x,y"]
    for _ in range(n):
        x, y = sample(rng)
        lines.append(f"{x:.6f},{y:.6f}")
    path.write_bytes(("\n".join(lines) + "\n").encode("ascii"))


def main():
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent
    for name, sample in DENSITIES.items():
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        for split, n in SIZES.items():
            rng = random.Random(seed_for(name, split))
            write_split(folder / f"{split}.csv", sample, rng, n)
            print(f"wrote {folder / f'{split}.csv'} ({n} points)")


if __name__ == "__main__":
    main()
