//! Choosing the next token from logits: greedy, temperature, top-k (Fan et al. 2018) and
//! nucleus / top-p (Holtzman et al. 2020) sampling.

use rand::rngs::StdRng;
use rand::RngExt;

/// How the next token is chosen. `temperature = 0` is greedy (the most likely token).
#[derive(Debug, Clone, PartialEq)]
pub struct Sampling {
    pub temperature: f64,
    /// Only the `k` most likely tokens are drawn from.
    pub top_k: Option<usize>,
    /// Only the smallest set of most likely tokens whose probability reaches `p`.
    pub top_p: Option<f64>,
}

impl Sampling {
    pub fn greedy() -> Self {
        Self { temperature: 0.0, top_k: None, top_p: None }
    }

    /// Says why these settings cannot sample.
    pub fn check(&self) -> Result<(), String> {
        if !self.temperature.is_finite() || self.temperature < 0.0 {
            return Err(format!("temperature must be 0 (greedy) or positive, not {}", self.temperature));
        }
        if self.top_k == Some(0) {
            return Err("top-k must be at least 1".into());
        }
        if let Some(p) = self.top_p {
            if !(p > 0.0 && p <= 1.0) {
                return Err(format!("top-p must be in (0, 1], not {p}"));
            }
        }
        Ok(())
    }

    /// The index of the chosen token.
    pub fn draw(&self, logits: &[f32], rng: &mut StdRng) -> usize {
        if self.temperature == 0.0 {
            return argmax(logits);
        }
        let mut probs = softmax_with_temperature(logits, self.temperature);
        if let Some(k) = self.top_k {
            filter_top_k(&mut probs, k);
        }
        if let Some(p) = self.top_p {
            filter_top_p(&mut probs, p);
        }
        let total: f64 = probs.iter().sum();
        let mut u = rng.random::<f64>() * total;
        for (i, &p) in probs.iter().enumerate() {
            if u < p {
                return i;
            }
            u -= p;
        }
        // Rounding left u at the very end: the last token with any probability.
        probs.iter().rposition(|&p| p > 0.0).unwrap_or(0)
    }
}

fn argmax(values: &[f32]) -> usize {
    values.iter().enumerate().fold(0, |best, (i, &v)| if v > values[best] { i } else { best })
}

/// `softmax(logits / temperature)` in f64.
pub fn softmax_with_temperature(logits: &[f32], temperature: f64) -> Vec<f64> {
    let scaled: Vec<f64> = logits.iter().map(|&l| f64::from(l) / temperature).collect();
    let max = scaled.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let exp: Vec<f64> = scaled.iter().map(|&s| (s - max).exp()).collect();
    let sum: f64 = exp.iter().sum();
    exp.into_iter().map(|e| e / sum).collect()
}

/// Zeroes all but the `k` largest probabilities (ties broken towards the lower index) and
/// renormalises.
///
/// ```
/// let mut p = vec![0.1, 0.4, 0.2, 0.3];
/// kiln_sequence::generate::filter_top_k(&mut p, 2);
/// assert_eq!(p, vec![0.0, 0.4 / 0.7, 0.0, 0.3 / 0.7]);
/// ```
pub fn filter_top_k(probs: &mut [f64], k: usize) {
    let kept = ranked(probs).into_iter().take(k).collect::<Vec<_>>();
    keep_only(probs, &kept);
}

/// Keeps the most likely tokens until their probability reaches `p` (at least one), zeroes the
/// rest and renormalises.
///
/// ```
/// let mut p = vec![0.1, 0.5, 0.15, 0.25];
/// kiln_sequence::generate::filter_top_p(&mut p, 0.7);
/// assert_eq!(p, vec![0.0, 0.5 / 0.75, 0.0, 0.25 / 0.75]);
/// ```
pub fn filter_top_p(probs: &mut [f64], p: f64) {
    let total: f64 = probs.iter().sum();
    let mut kept = Vec::new();
    let mut mass = 0.0;
    for i in ranked(probs) {
        kept.push(i);
        mass += probs[i] / total;
        if mass >= p {
            break;
        }
    }
    keep_only(probs, &kept);
}

/// Indices by falling probability, lower index first among equals.
fn ranked(probs: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..probs.len()).collect();
    order.sort_by(|&a, &b| probs[b].total_cmp(&probs[a]).then(a.cmp(&b)));
    order
}

fn keep_only(probs: &mut [f64], kept: &[usize]) {
    let mass: f64 = kept.iter().map(|&i| probs[i]).sum();
    let mut mask = vec![false; probs.len()];
    for &i in kept {
        mask[i] = true;
    }
    for (p, keep) in probs.iter_mut().zip(mask) {
        *p = if keep { *p / mass } else { 0.0 };
    }
}
