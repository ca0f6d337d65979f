//! Writing targets: from the begin token, the next token after the target so far, drawn by
//! [`Sampling`] (greedy by default), until every row has written its end token.

use burn::prelude::*;
use rand::rngs::StdRng;
use rand::SeedableRng;

use super::Seq2SeqModel;
use crate::generate::Sampling;

/// The targets of a batch of sources (`[batch, steps]`, pads where `padding` is true), each
/// without its begin and end tokens, of at most `max_steps` tokens.
///
/// The decoder runs over the whole target so far at every step (no cache): targets here are
/// tens of tokens, and one code path serves every [`Seq2SeqModel`].
pub fn decode<B: Backend, M: Seq2SeqModel<B>>(
    model: &M,
    source: Tensor<B, 2, Int>,
    padding: Tensor<B, 2, Bool>,
    begin: usize,
    end: usize,
    max_steps: usize,
    sampling: &Sampling,
    seed: u64,
) -> Vec<Vec<usize>> {
    let [batch, _] = source.dims();
    let device = source.device();
    let max_steps = model.max_target_len().map_or(max_steps, |len| max_steps.min(len.saturating_sub(1)));
    let memory = model.encode(source, padding);
    let mut rng = StdRng::seed_from_u64(seed);
    let mut written: Vec<Vec<usize>> = vec![Vec::new(); batch];
    let mut done = vec![false; batch];
    let mut target = Tensor::<B, 2, Int>::full([batch, 1], begin as i64, &device);
    for step in 0..max_steps {
        let logits = model.decode(&memory, target.clone());
        let vocab = logits.dims()[2];
        let last: Vec<f32> = logits
            .narrow(1, step, 1)
            .reshape([batch * vocab])
            .into_data()
            .convert::<f32>()
            .to_vec()
            .expect("f32 logits");
        let mut next = Vec::with_capacity(batch);
        for (row, logits) in last.chunks(vocab).enumerate() {
            // A finished row keeps writing its end token, which nobody reads.
            let token = if done[row] { end } else { sampling.draw(logits, &mut rng) };
            if token == end {
                done[row] = true;
            } else {
                written[row].push(token);
            }
            next.push(token as i64);
        }
        if done.iter().all(|&d| d) {
            break;
        }
        let column = Tensor::<B, 2, Int>::from_data(TensorData::new(next, [batch, 1]), &device);
        target = Tensor::cat(vec![target, column], 1);
    }
    written
}
