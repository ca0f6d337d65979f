use burn::backend::NdArray;
use burn::module::Module;
use burn::prelude::*;

use super::*;
use crate::language_model::{LanguageModel, TransformerLmConfig};

type B = NdArray;

fn tokens(ids: &[i64]) -> Tensor<B, 2, Int> {
    Tensor::from_data(TensorData::new(ids.to_vec(), [1, ids.len()]), &Default::default())
}

fn values<const D: usize>(t: Tensor<B, D>) -> Vec<f32> {
    t.into_data().convert::<f32>().to_vec().unwrap()
}

fn close(a: &[f32], b: &[f32]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-4)
}

#[test]
fn generating_with_the_kv_cache_equals_recomputing_the_whole_window() {
    let device = Default::default();
    let ids = [3, 1, 4, 1, 5, 9, 2, 6];
    for (positions, pre_norm) in [(PositionKind::Sinusoidal, true), (PositionKind::Learned, false)] {
        let lm = TransformerLmConfig::new(12)
            .with_d_model(16)
            .with_heads(4)
            .with_d_ff(32)
            .with_layers(2)
            .with_max_len(16)
            .with_dropout(0.0)
            .with_positions(positions)
            .with_pre_norm(pre_norm)
            .init::<B>(&device);
        let (full, _) = lm.forward(tokens(&ids), None);
        let full = values(full);
        // The first three at once, then one at a time with the cache.
        let (mut logits, mut state) = lm.forward(tokens(&ids[..3]), None);
        let mut pieces = values(logits.clone());
        for &id in &ids[3..] {
            (logits, state) = lm.forward(tokens(&[id]), Some(state));
            pieces.extend(values(logits.clone()));
        }
        assert_eq!(state.positions, ids.len());
        assert!(close(&pieces, &full), "{positions:?}, pre_norm {pre_norm}");
    }
}

#[test]
fn logits_at_a_position_ignore_the_tokens_after_it() {
    let device = Default::default();
    let lm =
        TransformerLmConfig::new(10).with_d_model(8).with_heads(2).with_d_ff(16).with_dropout(0.0).init::<B>(&device);
    let (a, _) = lm.forward(tokens(&[1, 2, 3, 4, 5]), None);
    let (b, _) = lm.forward(tokens(&[1, 2, 3, 9, 0]), None);
    let (a, b) = (values(a), values(b));
    assert!(close(&a[..30], &b[..30]), "positions 0..3 saw the same tokens");
    assert!(!close(&a[30..40], &b[30..40]), "position 3 saw a different token");
}

#[test]
fn padded_positions_change_nothing_under_the_padding_mask() {
    let device = Default::default();
    let attention = AttentionConfig::new(8, 2).init::<B>(&device);
    let x = |rows: &[[f32; 8]]| {
        let flat: Vec<f32> = rows.iter().flatten().copied().collect();
        Tensor::<B, 3>::from_data(TensorData::new(flat, [1, rows.len(), 8]), &device)
    };
    let (a, b) = ([0.3, -0.2, 0.5, 0.1, -0.7, 0.4, 0.0, 0.9], [-0.5, 0.8, 0.2, -0.3, 0.6, -0.1, 0.7, 0.2]);
    let junk = [9.0, -4.0, 3.0, 7.0, -8.0, 2.0, 5.0, -6.0];
    let (alone, _) = attention.forward(x(&[a, b]), None, None);
    // The pad first: causally every later step could see it, unless the mask hides it.
    let padding = Tensor::<B, 2, Bool>::from_data(TensorData::new(vec![true, false, false], [1, 3]), &device);
    let (padded, _) = attention.forward(x(&[junk, a, b]), None, Some(padding));
    assert!(close(&values(padded.narrow(1, 1, 2)), &values(alone)));
}

#[test]
fn tied_weights_share_the_embedding_matrix() {
    let device = Default::default();
    let config = TransformerLmConfig::new(50).with_d_model(16).with_heads(2).with_d_ff(32).with_layers(1);
    let tied = config.clone().with_tie_weights(true).init::<B>(&device);
    let untied = config.with_tie_weights(false).init::<B>(&device);
    // The untied read-out adds a d_model × vocab matrix (its bias replaces the tied bias).
    assert_eq!(untied.num_params() - tied.num_params(), 16 * 50);
}
