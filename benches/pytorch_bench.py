"""PyTorch side of `kiln bench`: the same models, step and timing on the same machine.

Usage: python benches/pytorch_bench.py --model lenet5 --batch-size 256 [--steps 20] [--device cpu] [--input 1x28x28]
       python benches/pytorch_bench.py --model transformer_lm --batch-size 32 [--seq-len 128] [--vocab 256] [--attention sdpa]
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

The language models take random int64 tokens [batch, --seq-len] in [0, --vocab) and as many random
targets, with cross-entropy averaged over every position (--input is not used for them).
transformer_lm is kiln-sequence's TransformerLm layer for layer: d_model 256, 4 pre-norm blocks of
4 heads, d_ff 1024 with exact GELU, dropout 0.1, sinusoidal positions up to max_len 256, a final
LayerNorm and a read-out tied to the embedding plus its own bias. Its attention is written out as
kiln computes it; --attention sdpa uses F.scaled_dot_product_attention instead, the field's fused
kernel. lstm_lm is kiln's RecurrentLm with LSTM cells (embedding 64, 2 layers of 256, dropout 0)
on torch.nn.LSTM, the field's implementation of the same equations and parameters.
"""
import argparse
import json
import math
import sys
import time

try:
    import torch
    from torch import nn
    from torch.nn import functional as F
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


class Attention(nn.Module):
    """kiln's causal multi-head attention: q, k, v and output projections with biases, dropout on
    the weights. "explicit" does kiln's arithmetic step by step; "sdpa" is PyTorch's fused kernel."""

    def __init__(self, d_model, heads, dropout, max_len, kind="explicit"):
        super().__init__()
        self.query, self.key, self.value, self.output = (nn.Linear(d_model, d_model) for _ in range(4))
        self.dropout = nn.Dropout(dropout)
        self.heads, self.kind = heads, kind
        # True above the diagonal: key positions after the query's; a buffer, so not a parameter.
        self.register_buffer("later", torch.ones(max_len, max_len, dtype=torch.bool).triu(1), persistent=False)

    def forward(self, x):
        batch, steps, d_model = x.shape
        d_head = d_model // self.heads

        def split(t):
            return t.view(batch, steps, self.heads, d_head).transpose(1, 2)

        q, k, v = split(self.query(x)), split(self.key(x)), split(self.value(x))
        if self.kind == "sdpa":
            p = self.dropout.p if self.training else 0.0
            mixed = F.scaled_dot_product_attention(q, k, v, dropout_p=p, is_causal=True)
        else:
            scores = q @ k.transpose(2, 3) / math.sqrt(d_head)
            # -1e9 rather than -inf, as kiln masks.
            scores = scores.masked_fill(self.later[:steps, :steps], -1.0e9)
            mixed = self.dropout(scores.softmax(-1)) @ v
        return self.output(mixed.transpose(1, 2).reshape(batch, steps, d_model))


class DecoderBlock(nn.Module):
    """kiln's SelfAttentionBlock, pre-norm and causal; one dropout (as kiln's one Dropout module)
    after each branch and after the MLP's activation."""

    def __init__(self, d_model, heads, d_ff, dropout, max_len, attention):
        super().__init__()
        self.attention = Attention(d_model, heads, dropout, max_len, attention)
        self.norm_attention = nn.LayerNorm(d_model, eps=1e-5)  # Burn's LayerNormConfig default
        self.expand = nn.Linear(d_model, d_ff)
        self.contract = nn.Linear(d_ff, d_model)
        self.norm_mlp = nn.LayerNorm(d_model, eps=1e-5)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        x = x + self.dropout(self.attention(self.norm_attention(x)))
        mlp = self.contract(self.dropout(F.gelu(self.expand(self.norm_mlp(x)))))  # exact (erf) GELU, as Burn's Gelu::new()
        return x + self.dropout(mlp)


def sinusoidal_positions(length, d_model):
    """kiln's table: sin at even dimensions, cos at odd, pairs sharing 10000^(2i/d); computed in
    float64 and rounded to float32 as kiln does."""
    pos = torch.arange(length, dtype=torch.float64)[:, None]
    pair = (torch.arange(d_model) // 2 * 2).to(torch.float64)
    angle = pos / 10_000.0 ** (pair / d_model)
    return torch.where(torch.arange(d_model) % 2 == 0, angle.sin(), angle.cos()).float()


class TransformerLm(nn.Module):
    """kiln-sequence's TransformerLm with its defaults (sinusoidal positions, pre-norm, tied)."""

    def __init__(self, vocab, d_model=256, layers=4, heads=4, d_ff=1024, dropout=0.1, max_len=256, attention="explicit"):
        super().__init__()
        self.embedding = nn.Embedding(vocab, d_model)
        # N(0, 1/d_model), as kiln: unit-variance inputs after the √d_model scale.
        nn.init.normal_(self.embedding.weight, 0.0, 1.0 / math.sqrt(d_model))
        self.register_buffer("positions", sinusoidal_positions(max_len, d_model), persistent=False)
        self.dropout = nn.Dropout(dropout)
        self.blocks = nn.ModuleList(DecoderBlock(d_model, heads, d_ff, dropout, max_len, attention) for _ in range(layers))
        self.final_norm = nn.LayerNorm(d_model, eps=1e-5)
        # The tied read-out's own bias (kiln's `tied_bias`), zeros.
        self.bias = nn.Parameter(torch.zeros(vocab))
        self.d_model, self.max_len = d_model, max_len

    def forward(self, tokens):
        steps = tokens.shape[1]
        x = self.embedding(tokens) * math.sqrt(self.d_model)
        x = self.dropout(x + self.positions[:steps])
        for block in self.blocks:
            x = block(x)
        # x @ embedding.weight^T + bias, the arithmetic of kiln's tied matmul and bias.
        return F.linear(self.final_norm(x), self.embedding.weight, self.bias)


class LstmLm(nn.Module):
    """kiln-sequence's RecurrentLm with LSTM cells: embedding, stacked LSTM (W_ih, W_hh, b_ih and
    b_hh per layer, as kiln's RecurrentLayer), dropout on the embeddings, between layers and before
    a linear read-out."""

    def __init__(self, vocab, embed_dim=64, hidden=256, layers=2, dropout=0.0):
        super().__init__()
        self.embedding = nn.Embedding(vocab, embed_dim)
        self.lstm = nn.LSTM(embed_dim, hidden, num_layers=layers, dropout=dropout, batch_first=True)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, tokens):
        outputs, _ = self.lstm(self.dropout(self.embedding(tokens)))  # from a zero state, as kiln's bench
        return self.head(self.dropout(outputs))


# name: builder taking the parsed arguments (for --vocab, --seq-len, --attention)
LANGUAGE_MODELS = {
    "transformer_lm": lambda args: TransformerLm(args.vocab, attention=args.attention),
    "lstm_lm": lambda args: LstmLm(args.vocab),
}


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


def model_and_batch(args, device):
    """The model on `device` and its fixed random batch: images and class labels, or for a
    language model tokens and next tokens [batch, seq_len]."""
    if args.model in LANGUAGE_MODELS:
        model = LANGUAGE_MODELS[args.model](args)
        if args.seq_len > getattr(model, "max_len", args.seq_len):
            sys.exit(f"{args.model}: --seq-len {args.seq_len} is longer than the model's max_len {model.max_len}")
        model = model.to(device)
        tokens = torch.randint(0, args.vocab, (args.batch_size, args.seq_len), device=device)
        targets = torch.randint(0, args.vocab, (args.batch_size, args.seq_len), device=device)
        return model, tokens, targets
    model, shape, classes = model_and_shape(args)
    model = model.to(device)
    images = torch.randn(args.batch_size, *shape, device=device)
    targets = torch.randint(0, classes, (args.batch_size,), device=device)
    return model, images, targets


def training_step(model, inputs, targets):
    """One forward, cross-entropy, backward and Adam update on fixed data, loss read back."""
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()

    def step():
        optimizer.zero_grad(set_to_none=True)
        logits = model(inputs)
        # Every position of a language model's window is one example (a no-op for classifiers).
        loss = loss_fn(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))
        loss.item()
        loss.backward()
        optimizer.step()

    return step


def language_fields(args, seconds, processes=1):
    """A language model's window, vocabulary and tokens per second for the result; none for others."""
    if args.model not in LANGUAGE_MODELS:
        return {}
    fields = {"seq_len": args.seq_len, "vocab": args.vocab,
              "tokens_per_second": args.steps * args.batch_size * args.seq_len * processes / seconds}
    if args.model == "transformer_lm":
        fields["attention"] = args.attention
    return fields


def ddp_worker(rank, world, args, port, results):
    import os
    import torch.distributed as dist
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(max(1, (os.cpu_count() or 1) // world))
    dist.init_process_group("gloo", rank=rank, world_size=world)
    torch.manual_seed(0)
    model, inputs, targets = model_and_batch(args, torch.device("cpu"))
    step = training_step(nn.parallel.DistributedDataParallel(model), inputs, targets)
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
        **language_fields(args, seconds, args.ddp),
    }, indent=2))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="lenet5")
    parser.add_argument("--input", default=None, help="CxHxW of the random images (default: the model's own); not for language models")
    parser.add_argument("--seq-len", type=int, default=128, help="tokens per window (language models)")
    parser.add_argument("--vocab", type=int, default=256, help="vocabulary size (language models)")
    parser.add_argument("--attention", choices=["explicit", "sdpa"], default="explicit",
                        help="transformer_lm: kiln's arithmetic written out, or F.scaled_dot_product_attention")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--ddp", type=int, default=0, help="processes for DistributedDataParallel on CPU")
    args = parser.parse_args()
    if args.model not in MODELS and args.model not in LANGUAGE_MODELS:
        sys.exit(f"no PyTorch copy of '{args.model}' in this script (it has: {', '.join(sorted([*MODELS, *LANGUAGE_MODELS]))})")
    if args.seq_len < 1 or args.vocab < 1:
        sys.exit(f"--seq-len and --vocab must be at least 1, got {args.seq_len} and {args.vocab}")
    if args.ddp:
        return run_ddp(args)

    torch.manual_seed(0)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cudnn.benchmark = True  # as kiln sets it for tch on CUDA
    device = torch.device(args.device)
    model, inputs, targets = model_and_batch(args, device)
    print(f"# {args.model}: {sum(p.numel() for p in model.parameters())} parameters, torch {torch.__version__}, {torch.get_num_threads()} threads")
    step = training_step(model, inputs, targets)

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
        **language_fields(args, seconds),
    }, indent=2))


if __name__ == "__main__":
    main()
