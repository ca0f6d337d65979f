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

/// A seeded random hold-out of `round(len · fraction)` of `0..len`, for data with no one class
/// per example to stratify by (segmentation and detection canvases): `(train, held_out)`, each
/// in ascending order.
///
/// ```
/// let (train, valid) = kiln_data::random_split(10, 0.2, 7);
/// assert_eq!((train.len(), valid.len()), (8, 2));
/// assert!(valid.iter().all(|i| !train.contains(i)));
/// ```
pub fn random_split(len: usize, fraction: f64, seed: u64) -> (Vec<usize>, Vec<usize>) {
    let order = epoch_permutation(&(0..len).collect::<Vec<_>>(), seed, 0);
    let held_out = (len as f64 * fraction).round() as usize;
    let (mut valid, mut train) = (order[..held_out].to_vec(), order[held_out..].to_vec());
    valid.sort_unstable();
    train.sort_unstable();
    (train, valid)
}

/// Mean and standard deviation of grey pixels scaled to [0, 1] (at least 1e-6), over `images`:
/// the statistics inputs are standardised with, as torchvision's `Normalize`.
pub fn grey_statistics<'a>(images: impl IntoIterator<Item = &'a [u8]>) -> (f32, f32) {
    let (mut sum, mut squares, mut count) = (0f64, 0f64, 0f64);
    for image in images {
        for &p in image {
            let x = f64::from(p) / 255.0;
            sum += x;
            squares += x * x;
            count += 1.0;
        }
    }
    let mean = sum / count;
    let std = (squares / count - mean * mean).max(0.0).sqrt().max(1e-6);
    (mean as f32, std as f32)
}
