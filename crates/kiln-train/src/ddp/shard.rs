//! Which examples each peer trains on.
//!
//! Every node computes the same epoch permutation (it depends only on the seed and the epoch).
//! Step `s` trains on the global batch `order[s·B .. (s+1)·B]` with `B = batch_size · world`,
//! and global rank `r` takes its `r`-th slice of `batch_size`. A last global batch that is not
//! full is dropped (PyTorch's `DistributedSampler(drop_last=True)` with `drop_last` in the
//! loader): every peer must make the same number of all-reduces, and unequal slices would weight
//! examples unequally in the averaged gradient.

/// Optimizer steps per epoch when `examples` are split among `world` peers of `batch_size` each.
pub fn steps_per_epoch(examples: usize, batch_size: usize, world: usize) -> usize {
    examples / (batch_size * world)
}

/// The examples of global rank `rank`, in the order it trains on them.
///
/// ```
/// use kiln_train::ddp::shard_order;
/// let order: Vec<usize> = (0..10).collect();
/// // Two global batches of 4 (0..4, 4..8); 8 and 9 do not fill a third.
/// assert_eq!(shard_order(&order, 2, 0, 2), vec![0, 1, 4, 5]);
/// assert_eq!(shard_order(&order, 2, 1, 2), vec![2, 3, 6, 7]);
/// ```
pub fn shard_order(order: &[usize], batch_size: usize, rank: usize, world: usize) -> Vec<usize> {
    let global = batch_size * world;
    order.chunks_exact(global).flat_map(|batch| &batch[rank * batch_size..(rank + 1) * batch_size]).copied().collect()
}
