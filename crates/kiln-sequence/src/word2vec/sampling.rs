//! What a pass over the text trains on: frequent words sub-sampled, a dynamic window around each
//! kept word, and negative words drawn from the unigram distribution raised to 3/4.

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

/// The chance of keeping a word of relative frequency `f`: `min(1, √(t / f))`, i.e. the paper's
/// discard probability `1 − √(t / f)` (Mikolov et al. 2013, Eq. 5).
///
/// ```
/// use kiln_sequence::word2vec::keep_probability;
/// assert_eq!(keep_probability(1e-4, 1e-3), 1.0);
/// // A word making up 4 % of the text is kept √(0.001 / 0.04) ≈ 16 % of the time.
/// assert!((keep_probability(0.04, 1e-3) - 0.025f64.sqrt()).abs() < 1e-12);
/// ```
pub fn keep_probability(f: f64, t: f64) -> f64 {
    if t <= 0.0 {
        1.0
    } else {
        (t / f).sqrt().min(1.0)
    }
}

/// Draws words with probability `count^0.75 / Σ count^0.75` (Mikolov et al. 2013, Sec. 2.2).
#[derive(Debug, Clone)]
pub struct NoiseTable {
    cumulative: Vec<f64>,
}

impl NoiseTable {
    pub fn new(counts: &[u64]) -> Self {
        let mut total = 0.0;
        let mut cumulative: Vec<f64> = counts
            .iter()
            .map(|&c| {
                total += (c as f64).powf(0.75);
                total
            })
            .collect();
        for c in &mut cumulative {
            *c /= total;
        }
        Self { cumulative }
    }

    /// The probability of word `id`.
    pub fn probability(&self, id: usize) -> f64 {
        self.cumulative[id] - if id == 0 { 0.0 } else { self.cumulative[id - 1] }
    }

    pub fn draw(&self, rng: &mut StdRng) -> u32 {
        let u: f64 = rng.random();
        self.cumulative.partition_point(|&c| c <= u).min(self.cumulative.len() - 1) as u32
    }
}

/// Training pairs of one batch. Skip-gram: `inputs[i]` is a centre word predicting `targets[i]`.
/// CBOW: `contexts[i · width .. (i + 1) · width]` (with `mask`, 0 where a short window leaves a
/// slot empty) predict the centre `targets[i]`. `negatives` holds `k` noise words per pair.
#[derive(Debug, Clone, Default)]
pub struct Pairs {
    pub inputs: Vec<i64>,
    pub contexts: Vec<i64>,
    pub mask: Vec<f32>,
    pub targets: Vec<i64>,
    pub negatives: Vec<i64>,
    pub width: usize,
}

impl Pairs {
    pub fn len(&self) -> usize {
        self.targets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.targets.is_empty()
    }
}

/// Makes the pairs of a set of positions in a stream of word ids.
#[derive(Debug, Clone)]
pub struct PairSampler {
    pub keep: Vec<f64>,
    pub noise: NoiseTable,
    pub window: usize,
    pub negatives: usize,
}

impl PairSampler {
    /// `subsample` is the paper's threshold `t` (1e-3 in word2vec's code; 0 keeps every word).
    pub fn new(counts: &[u64], window: usize, negatives: usize, subsample: f64) -> Self {
        let total: u64 = counts.iter().sum();
        let keep = counts.iter().map(|&c| keep_probability(c as f64 / total.max(1) as f64, subsample)).collect();
        Self { keep, noise: NoiseTable::new(counts), window, negatives }
    }

    /// Pairs for centre `positions` of `stream`, drawn with `seed`: a centre survives
    /// sub-sampling with its keep probability, its window is uniform in `1..=window` (so near
    /// words count more, as in word2vec), and context words are the others within it.
    pub fn pairs(&self, stream: &[u32], positions: &[usize], cbow: bool, seed: u64) -> Pairs {
        let mut rng = StdRng::seed_from_u64(seed);
        let width = 2 * self.window;
        let mut pairs = Pairs { width: if cbow { width } else { 0 }, ..Pairs::default() };
        for &p in positions {
            let centre = stream[p];
            if rng.random::<f64>() >= self.keep[centre as usize] {
                continue;
            }
            let reach = rng.random_range(1..=self.window);
            let context: Vec<u32> = (p.saturating_sub(reach)..(p + reach + 1).min(stream.len()))
                .filter(|&q| q != p && rng.random::<f64>() < self.keep[stream[q] as usize])
                .map(|q| stream[q])
                .collect();
            if context.is_empty() {
                continue;
            }
            let mut noise = |pairs: &mut Pairs| {
                for _ in 0..self.negatives {
                    pairs.negatives.push(i64::from(self.noise.draw(&mut rng)));
                }
            };
            if cbow {
                for slot in 0..width {
                    pairs.contexts.push(context.get(slot).map_or(0, |&c| i64::from(c)));
                    pairs.mask.push(if slot < context.len() { 1.0 } else { 0.0 });
                }
                pairs.targets.push(i64::from(centre));
                noise(&mut pairs);
            } else {
                for &c in &context {
                    pairs.inputs.push(i64::from(centre));
                    pairs.targets.push(i64::from(c));
                    noise(&mut pairs);
                }
            }
        }
        pairs
    }
}
