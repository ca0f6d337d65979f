"""PyTorch side of `kiln bench`: the same models, step and timing on the same machine.

Usage: python benches/pytorch_bench.py --model lenet5 --batch-size 256 [--steps 20] [--device cpu] [--input 1x28x28]
       python benches/pytorch_bench.py --model lenet5 --batch-size 128 --ddp 2   # DDP, gloo, CPU

With --ddp N, N processes (torch.distributed, gloo on loopback) each take --batch-size examples
per step, as `kiln bench --strategy ddp --devices N` does; each process gets cores / N threads
(torchrun's rule of not oversubscribing), and the result is the total samples per second.

Each step is forward, cross-entropy, backward and an Adam update, reading the loss back
(`loss.item()`) as kiln's trainer does. Models mirror kiln's defaults: LeNet-5 with the paper's
scaled tanh and average subsampling; mnist_cnn with width 32, hidden 128, dropout 0.25 (1×28×28,
10 classes). The ImageNet-shaped models (3×224×224, 1000 classes, as `kiln bench` builds them) are
other projects' implementations, so the comparison is with the network as the field runs it:
vit_ti16 is timm's vit_tiny_patch16_224, resnet18/resnet50 are torchvision's (same parameter
counts as kiln's, printed first). float32 without TF32, so both sides do the same arithmetic.
"""
import argparse
import json
import sys
import time

try:
    import torch
    from torch import nn
except ImportError:
    sys.exit(f"torch is not installed for {sys.executable}: pip install torch==2.9.0 (or set KILN_PYTHON to a Python that has it)")


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


def imagenet_model(name, shape=(3, 224, 224)):
    if shape[0] != 3:
        sys.exit(f"{name}: the reference implementation takes 3-channel images, got --input {shape}")
    try:
        if name == "vit_ti16":
            import timm
            return timm.create_model("vit_tiny_patch16_224", num_classes=1000, img_size=shape[1])
        import torchvision
    except ImportError as e:
        sys.exit(f"{name} needs {e.name} beside torch: pip install {e.name}")
    return getattr(torchvision.models, name)(num_classes=1000)


# name: (builder, input shape, classes)
# name: (builder taking the input shape, default input shape, classes, whether the input may change)
MODELS = {
    "lenet5": (lambda shape: lenet5(), (1, 28, 28), 10, False),
    "mnist_cnn": (lambda shape: mnist_cnn(), (1, 28, 28), 10, False),
    "vit_ti16": (lambda shape: imagenet_model("vit_ti16", shape), (3, 224, 224), 1000, True),
    "resnet18": (lambda shape: imagenet_model("resnet18", shape), (3, 224, 224), 1000, True),
    "resnet50": (lambda shape: imagenet_model("resnet50", shape), (3, 224, 224), 1000, True),
}


def model_and_shape(args):
    """The model for `--input` (its default input when absent)."""
    build, shape, classes, resizable = MODELS[args.model]
    if args.input:
        wanted = tuple(int(d) for d in args.input.split("x"))
        if wanted != shape and not resizable:
            sys.exit(f"{args.model} is benchmarked at {shape[0]}x{shape[1]}x{shape[2]} only, got --input {args.input}")
        shape = wanted
    return build(shape), shape, classes


def training_step(model, batch_size, device, shape=(1, 28, 28), classes=10):
    """One forward, cross-entropy, backward and Adam update on fixed random data, loss read back."""
    images = torch.randn(batch_size, *shape, device=device)
    targets = torch.randint(0, classes, (batch_size,), device=device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(images), targets)
        loss.item()
        loss.backward()
        optimizer.step()

    return step


def ddp_worker(rank, world, args, port, results):
    import os
    import torch.distributed as dist
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(max(1, (os.cpu_count() or 1) // world))
    dist.init_process_group("gloo", rank=rank, world_size=world)
    torch.manual_seed(0)
    model, shape, classes = model_and_shape(args)
    model = nn.parallel.DistributedDataParallel(model)
    step = training_step(model, args.batch_size, torch.device("cpu"), shape, classes)
    for _ in range(1 + args.warmup):
        step()
    dist.barrier()
    start = time.perf_counter()
    for _ in range(args.steps):
        step()
    dist.barrier()
    results[rank] = time.perf_counter() - start
    dist.destroy_process_group()


def run_ddp(args):
    import socket
    import torch.multiprocessing as mp
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    results = mp.Manager().dict()
    mp.spawn(ddp_worker, args=(args.ddp, args, port, results), nprocs=args.ddp, join=True)
    seconds = max(results.values())
    print(json.dumps({
        "model": args.model, "backend": "pytorch-cpu-ddp-gloo", "devices": args.ddp, "batch_size": args.batch_size,
        "steps": args.steps, "step_ms": seconds * 1e3 / args.steps,
        "samples_per_second": args.steps * args.batch_size * args.ddp / seconds,
    }, indent=2))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="lenet5")
    parser.add_argument("--input", default=None, help="CxHxW of the random images (default: the model's own)")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--ddp", type=int, default=0, help="processes for DistributedDataParallel on CPU")
    args = parser.parse_args()
    if args.model not in MODELS:
        sys.exit(f"no PyTorch copy of '{args.model}' in this script (it has: {', '.join(sorted(MODELS))})")
    if args.ddp:
        return run_ddp(args)

    torch.manual_seed(0)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cudnn.benchmark = True  # as kiln sets it for tch on CUDA
    device = torch.device(args.device)
    model, shape, classes = model_and_shape(args)
    model = model.to(device)
    print(f"# {args.model}: {sum(p.numel() for p in model.parameters())} parameters, torch {torch.__version__}, {torch.get_num_threads()} threads")
    step = training_step(model, args.batch_size, device, shape, classes)

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
