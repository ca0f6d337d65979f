//! Deterministic index orders: stratified hold-out splits and per-epoch shuffles.

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;

/// Splits `0..labels.len()` into (kept, held_out), holding out `fraction` of every class.
///
/// The same labels, fraction and seed always give the same split.
pub fn stratified_split(labels: &[u8], fraction: f64, seed: u64) -> (Vec<usize>, Vec<usize>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let classes = labels.iter().copied().max().map_or(0, |m| m as usize + 1);
    let (mut kept, mut held_out) = (Vec::new(), Vec::new());
    for class in 0..classes {
        let mut members: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] as usize == class).collect();
        members.shuffle(&mut rng);
        let take = (members.len() as f64 * fraction).round() as usize;
        held_out.extend_from_slice(&members[..take]);
        kept.extend_from_slice(&members[take..]);
    }
    kept.sort_unstable();
    held_out.sort_unstable();
    (kept, held_out)
}

/// The order in which epoch `epoch` visits `indices`: a function of (seed, epoch) only, so a
/// resumed run sees exactly the batches an uninterrupted one would have seen.
pub fn epoch_permutation(indices: &[usize], seed: u64, epoch: usize) -> Vec<usize> {
    let mut order = indices.to_vec();
    let mix = seed ^ (epoch as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    order.shuffle(&mut StdRng::seed_from_u64(mix));
    order
}
