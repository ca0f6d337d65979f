//! Beam search (as in Sutskever et al. 2014 and Vaswani et al. 2017 for decoding): the `width`
//! most likely continuations kept at every step, each with its own state, scored by the sum of
//! their tokens' log-probabilities.

use burn::prelude::*;

use super::{check_prompt, last_logits, window};
use crate::language_model::LanguageModel;
use crate::SequenceError;

/// A kept continuation: its tokens, their summed log-probability, the state after them and the
/// logits for the next token.
struct Beam<S> {
    tokens: Vec<u32>,
    score: f64,
    state: S,
    next: Vec<f32>,
}

fn log_softmax(logits: &[f32]) -> Vec<f64> {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
    let sum: f64 = logits.iter().map(|&l| (l as f64 - max).exp()).sum();
    logits.iter().map(|&l| l as f64 - max - sum.ln()).collect()
}

/// The most likely continuation of `prompt` by `max_tokens` tokens that a beam of `width` finds;
/// width 1 is greedy decoding. Returns the new tokens and their summed log-probability.
///
/// ```
/// use burn::backend::NdArray;
/// use kiln_sequence::generate::{beam_search, generate, Sampling};
/// use kiln_sequence::language_model::RecurrentLmConfig;
/// use kiln_sequence::recurrent::CellKind;
///
/// let device = Default::default();
/// let lm = RecurrentLmConfig::new(CellKind::Lstm, 12).with_hidden(16).init::<NdArray>(&device);
/// let (tokens, _) = beam_search(&lm, &[1, 2], 6, 3, &device).unwrap();
/// assert_eq!(tokens.len(), 6);
/// ```
pub fn beam_search<B: Backend, M: LanguageModel<B>>(
    model: &M,
    prompt: &[u32],
    max_tokens: usize,
    width: usize,
    device: &B::Device,
) -> Result<(Vec<u32>, f64), SequenceError> {
    if width == 0 {
        return Err(SequenceError::Generation("the beam width must be at least 1".into()));
    }
    check_prompt(model, prompt)?;
    if let Some(limit) = model.max_context() {
        if prompt.len() + max_tokens > limit {
            return Err(SequenceError::Generation(format!(
                "beam search keeps the whole context, and the prompt ({} tokens) and {max_tokens} more exceed the model's {limit} positions",
                prompt.len()
            )));
        }
    }
    let window = |ids: &[u32]| window::<B>(ids, device);
    let (logits, state) = model.forward(window(prompt), None);
    let mut beams = vec![Beam { tokens: Vec::new(), score: 0.0, state, next: last_logits(logits) }];
    for _ in 0..max_tokens {
        // Every beam's `width` best tokens, then the `width` best of those (ties: earlier beam,
        // then lower token id, so width 1 is exactly greedy).
        let mut candidates: Vec<(usize, u32, f64)> = Vec::new();
        for (b, beam) in beams.iter().enumerate() {
            let lp = log_softmax(&beam.next);
            let mut order: Vec<usize> = (0..lp.len()).collect();
            order.sort_by(|&x, &y| lp[y].total_cmp(&lp[x]).then(x.cmp(&y)));
            candidates.extend(order.into_iter().take(width).map(|t| (b, t as u32, beam.score + lp[t])));
        }
        candidates.sort_by(|x, y| y.2.total_cmp(&x.2).then(x.0.cmp(&y.0)).then(x.1.cmp(&y.1)));
        candidates.truncate(width);
        beams = candidates
            .into_iter()
            .map(|(b, token, score)| {
                let parent = &beams[b];
                let (logits, state) = model.forward(window(&[token]), Some(parent.state.clone()));
                let mut tokens = parent.tokens.clone();
                tokens.push(token);
                Beam { tokens, score, state, next: last_logits(logits) }
            })
            .collect();
    }
    let best = beams.into_iter().next().expect("a beam is always kept");
    Ok((best.tokens, best.score))
}
