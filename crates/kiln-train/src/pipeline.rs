//! Batches prepared on worker threads, delivered in order.

use std::sync::mpsc::sync_channel;

use crate::error::{KilnError, Result};

/// Calls `consume` on each batch of `order` (chunks of `batch_size`) in order; `make(chunk, i)`
/// builds batch `i`. With `workers` > 0, worker `w` prepares batches w, w + workers, … two ahead;
/// reading them round-robin keeps the order identical to `workers = 0`.
pub fn for_each_batch<T, F, G>(
    order: &[usize],
    batch_size: usize,
    workers: usize,
    make: G,
    mut consume: F,
) -> Result<()>
where
    T: Send,
    F: FnMut(T) -> Result<()>,
    G: Fn(&[usize], usize) -> T + Sync,
{
    let chunks: Vec<&[usize]> = order.chunks(batch_size).collect();
    if workers == 0 {
        return chunks.iter().enumerate().try_for_each(|(i, chunk)| consume(make(chunk, i)));
    }
    let (chunks, make) = (&chunks, &make);
    std::thread::scope(|scope| {
        let receivers: Vec<_> = (0..workers)
            .map(|w| {
                let (tx, rx) = sync_channel(2);
                scope.spawn(move || {
                    for (i, chunk) in chunks.iter().enumerate().skip(w).step_by(workers) {
                        if tx.send(make(chunk, i)).is_err() {
                            break; // the consumer stopped early
                        }
                    }
                });
                rx
            })
            .collect();
        for i in 0..chunks.len() {
            let batch = receivers[i % workers]
                .recv()
                .map_err(|_| KilnError::Unsupported("a data worker thread stopped unexpectedly".into()))?;
            consume(batch)?;
        }
        Ok(())
    })
}
