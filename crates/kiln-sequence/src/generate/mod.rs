//! Generating text from a language model: the prompt read once, then one token at a time with
//! the carried state (a recurrent net's hidden state: no window is recomputed).

mod beam;
mod sampling;

use burn::prelude::*;
use rand::rngs::StdRng;
use rand::SeedableRng;

pub use beam::beam_search;
pub use sampling::{filter_top_k, filter_top_p, softmax_with_temperature, Sampling};

use crate::language_model::LanguageModel;
use crate::SequenceError;

/// Continues `prompt` by up to `max_tokens` tokens drawn with `sampling` (seeded, so a run
/// repeats), calling `emit` with each as it is drawn; returns the new tokens.
///
/// ```
/// use burn::backend::NdArray;
/// use kiln_sequence::generate::{generate, Sampling};
/// use kiln_sequence::language_model::RecurrentLmConfig;
/// use kiln_sequence::recurrent::CellKind;
///
/// let device = Default::default();
/// let lm = RecurrentLmConfig::new(CellKind::Gru, 20).with_hidden(16).init::<NdArray>(&device);
/// let tokens = generate(&lm, &[3, 4], 5, &Sampling::greedy(), 0, &device, |_| {}).unwrap();
/// assert_eq!(tokens.len(), 5);
/// ```
pub fn generate<B: Backend, M: LanguageModel<B>>(
    model: &M,
    prompt: &[u32],
    max_tokens: usize,
    sampling: &Sampling,
    seed: u64,
    device: &B::Device,
    mut emit: impl FnMut(u32),
) -> Result<Vec<u32>, SequenceError> {
    sampling.check().map_err(SequenceError::Generation)?;
    check_prompt(model, prompt)?;
    let mut rng = StdRng::seed_from_u64(seed);
    let window = |ids: &[u32]| window::<B>(ids, device);
    // A model with a bounded context sees at most its last `limit` tokens; when its state is
    // full it starts again from the last half of them (amortised: one re-read per limit / 2 tokens).
    let limit = model.max_context().unwrap_or(usize::MAX).max(1);
    let mut context: Vec<u32> = prompt[prompt.len().saturating_sub(limit)..].to_vec();
    let (mut logits, mut state) = model.forward(window(&context), None);
    let mut held = context.len();
    let mut drawn = Vec::with_capacity(max_tokens);
    while drawn.len() < max_tokens {
        let next = sampling.draw(&last_logits(logits), &mut rng) as u32;
        emit(next);
        drawn.push(next);
        context.push(next);
        if drawn.len() == max_tokens {
            break;
        }
        if held == limit {
            let keep = (limit / 2).max(1);
            let recent = &context[context.len() - keep..];
            (logits, state) = model.forward(window(recent), None);
            held = keep;
        } else {
            (logits, state) = model.forward(window(&[next]), Some(state));
            held += 1;
        }
    }
    Ok(drawn)
}

/// Refuses an empty prompt and token ids outside the model's vocabulary.
fn check_prompt<B: Backend, M: LanguageModel<B>>(model: &M, prompt: &[u32]) -> Result<(), SequenceError> {
    if prompt.is_empty() {
        return Err(SequenceError::Generation("the prompt is empty; give it at least one token".into()));
    }
    if let Some(&id) = prompt.iter().find(|&&id| id as usize >= model.vocab_size()) {
        return Err(SequenceError::Generation(format!(
            "token {id} is outside the vocabulary of {}",
            model.vocab_size()
        )));
    }
    Ok(())
}

/// `ids` as one `[1, steps]` window.
fn window<B: Backend>(ids: &[u32], device: &B::Device) -> Tensor<B, 2, Int> {
    let ids: Vec<i64> = ids.iter().map(|&i| i64::from(i)).collect();
    let steps = ids.len();
    Tensor::from_data(TensorData::new(ids, [1, steps]), device)
}

/// The logits of a window's last position, on the host.
fn last_logits<B: Backend>(logits: Tensor<B, 3>) -> Vec<f32> {
    let [_, steps, vocab] = logits.dims();
    logits.narrow(1, steps - 1, 1).reshape([vocab]).into_data().convert::<f32>().to_vec().expect("float logits")
}

#[cfg(test)]
mod tests {
    use burn::backend::NdArray;

    use super::*;
    use crate::language_model::{RecurrentLmConfig, TransformerLmConfig};
    use crate::recurrent::CellKind;

    #[test]
    fn a_beam_of_width_one_is_greedy_decoding_and_wider_beams_score_at_least_their_own_first_beam() {
        let device = Default::default();
        let lm = RecurrentLmConfig::new(CellKind::Gru, 9).with_hidden(12).with_embed_dim(6).init::<NdArray>(&device);
        let greedy = generate(&lm, &[1, 5, 2], 12, &Sampling::greedy(), 0, &device, |_| {}).unwrap();
        let (beam1, _) = beam_search(&lm, &[1, 5, 2], 12, 1, &device).unwrap();
        assert_eq!(beam1, greedy);
        let transformer = TransformerLmConfig::new(9).with_d_model(8).with_heads(2).with_d_ff(16).with_max_len(16);
        let transformer = transformer.with_dropout(0.0).init::<NdArray>(&device);
        let greedy = generate(&transformer, &[3, 4], 8, &Sampling::greedy(), 0, &device, |_| {}).unwrap();
        assert_eq!(beam_search(&transformer, &[3, 4], 8, 1, &device).unwrap().0, greedy);
        assert!(beam_search(&transformer, &[3, 4], 20, 2, &device).unwrap_err().to_string().contains("16 positions"));
        assert!(beam_search(&lm, &[1], 3, 0, &device).is_err());
    }
}
