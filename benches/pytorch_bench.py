"""PyTorch side of `kiln bench`: the same models, step and timing on the same machine.

Usage: python benches/pytorch_bench.py --model lenet5 --batch-size 256 [--steps 20] [--device cpu]

Each step is forward, cross-entropy, backward and an Adam update, reading the loss back
(`loss.item()`) as kiln's trainer does. Models mirror kiln's defaults: LeNet-5 with the paper's
scaled tanh and average subsampling; mnist_cnn with width 32, hidden 128, dropout 0.25.
"""
import argparse
import json
import time

import torch
from torch import nn


class ScaledTanh(nn.Module):
    def forward(self, x):
        return 1.7159 * torch.tanh(x * 2.0 / 3.0)


def lenet5():
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), ScaledTanh(), nn.AvgPool2d(2),
        nn.Conv2d(6, 16, 5), ScaledTanh(), nn.AvgPool2d(2),
        nn.Conv2d(16, 120, 5), ScaledTanh(), nn.Flatten(),
        nn.Linear(120, 84), ScaledTanh(), nn.Linear(84, 10),
    )


def mnist_cnn(width=32, hidden=128, dropout=0.25):
    def block(i, o):
        return [nn.Conv2d(i, o, 3, padding=1, bias=False), nn.BatchNorm2d(o), nn.ReLU()]
    w1, w2 = width, 2 * width
    return nn.Sequential(
        *block(1, w1), *block(w1, w1), nn.MaxPool2d(2),
        *block(w1, w2), *block(w2, w2), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(w2 * 49, hidden), nn.ReLU(), nn.Dropout(dropout), nn.Linear(hidden, 10),
    )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="lenet5", choices=["lenet5", "mnist_cnn"])
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()

    torch.manual_seed(0)
    device = torch.device(args.device)
    model = {"lenet5": lenet5, "mnist_cnn": mnist_cnn}[args.model]().to(device)
    print(f"# {args.model}: {sum(p.numel() for p in model.parameters())} parameters, torch {torch.__version__}, {torch.get_num_threads()} threads")
    images = torch.randn(args.batch_size, 1, 28, 28, device=device)
    targets = torch.randint(0, 10, (args.batch_size,), device=device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(images), targets)
        loss.item()
        loss.backward()
        optimizer.step()

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize()

    start = time.perf_counter()
    step()
    sync()
    first = time.perf_counter() - start
    for _ in range(args.warmup):
        step()
    sync()
    start = time.perf_counter()
    for _ in range(args.steps):
        step()
    sync()
    seconds = time.perf_counter() - start
    print(json.dumps({
        "model": args.model, "backend": f"pytorch-{device.type}", "batch_size": args.batch_size,
        "steps": args.steps, "first_step_ms": first * 1e3, "step_ms": seconds * 1e3 / args.steps,
        "steps_per_second": args.steps / seconds, "samples_per_second": args.steps * args.batch_size / seconds,
    }, indent=2))


if __name__ == "__main__":
    main()
