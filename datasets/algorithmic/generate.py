#!/usr/bin/env python3
"""Writes the algorithmic sequence-to-sequence tasks as tab-separated pairs (source<TAB>target,
one per line), the format `[task] name = "seq2seq"` reads from any folder:

  copy/      a string of digits          -> the same string
  reverse/   a string of digits          -> the string reversed
  addition/  "a+b" of two decimal numbers -> their sum
  addition-reversed/  the same sources -> the sum's digits last to first (the order carries
             propagate in, as written by Lee et al. 2023, "Teaching Arithmetic to Small
             Transformers")

Each folder has train.tsv, valid.tsv, test.tsv (lengths as in training, no pair of them in
train.tsv) and longer.tsv (longer than any training example: how far the model extrapolates).
Synthetic on purpose: the claim is about these algorithmic distributions. Standard library
only; the same seed writes the same bytes on any Python 3.
"""
import os
import random
import sys

SEED = 2017  # Vaswani et al.
SIZES = {"train": 20000, "valid": 1000, "test": 1000, "longer": 1000}
# Digits in a copy/reverse string, or in each addend.
LENGTHS = {"copy": (1, 12, 13, 16), "reverse": (1, 12, 13, 16), "addition": (1, 4, 5, 6)}
# Folders that rewrite another's targets (same sources, same splits).
REWRITES = {"addition-reversed": ("addition", lambda target: target[::-1])}


def digits(rng, n):
    return "".join(rng.choice("0123456789") for _ in range(n))


def number(rng, n):
    """A decimal number of exactly n digits (no leading zero unless it is 0 itself)."""
    if n == 1:
        return str(rng.randrange(10))
    return str(rng.randrange(10 ** (n - 1), 10 ** n))


def pair(task, rng, lo, hi):
    if task == "addition":
        a, b = number(rng, rng.randint(lo, hi)), number(rng, rng.randint(lo, hi))
        return f"{a}+{b}", str(int(a) + int(b))
    s = digits(rng, rng.randint(lo, hi))
    return s, (s if task == "copy" else s[::-1])


def draw(task, rng, lo, hi, count, taken):
    """`count` distinct pairs not in `taken` (which they join)."""
    out = []
    while len(out) < count:
        p = pair(task, rng, lo, hi)
        if p[0] not in taken:
            taken.add(p[0])
            out.append(p)
    return out


def main(out_dir):
    for task, (lo, hi, long_lo, long_hi) in LENGTHS.items():
        rng = random.Random(f"{SEED}-{task}")
        taken = set()
        splits = {name: draw(task, rng, lo, hi, SIZES[name], taken) for name in ("train", "valid", "test")}
        splits["longer"] = draw(task, rng, long_lo, long_hi, SIZES["longer"], taken)
        write(out_dir, task, splits)
        for folder, (of, rewrite) in REWRITES.items():
            if of == task:
                write(out_dir, folder, {n: [(s, rewrite(t)) for s, t in p] for n, p in splits.items()})


def write(out_dir, folder, splits):
    os.makedirs(os.path.join(out_dir, folder), exist_ok=True)
    for name, pairs in splits.items():
        with open(os.path.join(out_dir, folder, f"{name}.tsv"), "w", encoding="utf-8", newline="\n") as f:
            f.writelines(f"{s}\t{t}\n" for s, t in pairs)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__)))
