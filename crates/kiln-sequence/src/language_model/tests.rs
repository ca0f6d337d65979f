use burn::backend::NdArray;
use burn::prelude::*;

use super::*;
use crate::recurrent::CellKind;

type B = NdArray;

fn tokens(ids: &[i64], batch: usize) -> Tensor<B, 2, Int> {
    Tensor::from_data(TensorData::new(ids.to_vec(), [batch, ids.len() / batch]), &Default::default())
}

fn values(t: Tensor<B, 3>) -> Vec<f32> {
    t.into_data().convert::<f32>().to_vec().unwrap()
}

#[test]
fn a_window_split_in_two_with_the_state_carried_equals_the_whole_window() {
    let device = Default::default();
    for kind in [CellKind::Rnn, CellKind::Lstm, CellKind::Gru] {
        let lm = RecurrentLmConfig::new(kind, 11).with_hidden(8).with_embed_dim(5).init::<B>(&device);
        let ids = [1, 4, 2, 9, 3, 3, 7, 10, 0, 5, 6, 2];
        let (whole, _) = lm.forward(tokens(&ids, 2), None);
        let first: Vec<i64> = [&ids[0..4], &ids[6..10]].concat();
        let second: Vec<i64> = [&ids[4..6], &ids[10..12]].concat();
        let (a, state) = lm.forward(tokens(&first, 2), None);
        let (b, _) = lm.forward(tokens(&second, 2), RecurrentLm::carry(state));
        let joined = values(Tensor::cat(vec![a, b], 1));
        let whole = values(whole);
        assert!(joined.iter().zip(&whole).all(|(x, y)| (x - y).abs() < 1e-5), "{kind:?}");
    }
}

#[test]
fn logits_at_a_position_ignore_the_tokens_after_it() {
    let device = Default::default();
    let lm = RecurrentLmConfig::new(CellKind::Lstm, 7).with_hidden(6).with_embed_dim(4).init::<B>(&device);
    let (a, _) = lm.forward(tokens(&[1, 2, 3, 4, 5], 1), None);
    let (b, _) = lm.forward(tokens(&[1, 2, 3, 6, 0], 1), None);
    let (a, b) = (values(a), values(b));
    assert_eq!(a[..3 * 7], b[..3 * 7], "positions 0..3 saw the same tokens");
    assert_ne!(a[3 * 7..4 * 7], b[3 * 7..4 * 7], "position 3 saw a different token");
}
