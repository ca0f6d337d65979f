use burn::backend::NdArray;
use burn::module::Param;
use burn::prelude::*;

use super::*;
use crate::generate::Sampling;
use crate::recurrent::CellKind;
use crate::transformer::AttentionConfig;

type B = NdArray;

fn ids(rows: &[&[i64]]) -> Tensor<B, 2, Int> {
    let width = rows[0].len();
    let flat: Vec<i64> = rows.iter().flat_map(|r| r.iter().copied()).collect();
    Tensor::from_data(TensorData::new(flat, [rows.len(), width]), &Default::default())
}

fn pads(rows: &[&[bool]]) -> Tensor<B, 2, Bool> {
    let width = rows[0].len();
    let flat: Vec<bool> = rows.iter().flat_map(|r| r.iter().copied()).collect();
    Tensor::from_data(TensorData::new(flat, [rows.len(), width]), &Default::default())
}

fn values<const D: usize>(t: Tensor<B, D>) -> Vec<f32> {
    t.into_data().convert::<f32>().to_vec().unwrap()
}

fn close(a: &[f32], b: &[f32]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-4)
}

fn transformer(positions: crate::transformer::PositionKind, pre_norm: bool) -> TransformerSeq2Seq<B> {
    TransformerSeq2SeqConfig::new(13)
        .with_d_model(16)
        .with_heads(4)
        .with_d_ff(32)
        .with_max_len(12)
        .with_positions(positions)
        .with_pre_norm(pre_norm)
        .init(&Default::default())
}

fn recurrent(kind: CellKind, attention: bool) -> RecurrentSeq2Seq<B> {
    RecurrentSeq2SeqConfig::new(kind, 13)
        .with_embed_dim(6)
        .with_hidden(8)
        .with_attention(attention)
        .init(&Default::default())
}

/// Logits of `target` after `source`, and after the same source with pad steps of arbitrary
/// tokens appended under the mask: they must agree.
fn padded_equals_unpadded<M: Seq2SeqModel<B>>(model: &M, what: &str) {
    let source: &[i64] = &[4, 7, 3, 9];
    let target = ids(&[&[1, 5, 6, 8]]);
    let alone = model.decode(&model.encode(ids(&[source]), pads(&[&[false; 4]])), target.clone());
    let padded =
        model.encode(ids(&[&[4, 7, 3, 9, 11, 2, 12]]), pads(&[&[false, false, false, false, true, true, true]]));
    let with_pads = model.decode(&padded, target);
    assert!(close(&values(alone), &values(with_pads)), "{what}: padding changed the logits");
}

/// Logits at target step `t` may not depend on target tokens after `t`.
fn causal_in_the_target<M: Seq2SeqModel<B>>(model: &M, what: &str) {
    let memory = model.encode(ids(&[&[4, 7, 3]]), pads(&[&[false; 3]]));
    let a = values(model.decode(&memory, ids(&[&[1, 5, 6, 8, 2]])));
    let b = values(model.decode(&memory, ids(&[&[1, 5, 6, 10, 0]])));
    assert!(close(&a[..3 * 13], &b[..3 * 13]), "{what}: steps 0..3 saw the same target tokens");
    assert!(!close(&a[3 * 13..4 * 13], &b[3 * 13..4 * 13]), "{what}: step 3 saw a different token");
}

/// Decoding a padded batch writes what decoding each source alone writes.
fn batch_decodes_as_rows_alone<M: Seq2SeqModel<B>>(model: &M, what: &str) {
    let greedy = Sampling::greedy();
    let one = |source: &[i64]| {
        decode(model, ids(&[source]), pads(&[&vec![false; source.len()]]), 1, 2, 6, &greedy, 0).remove(0)
    };
    let batch = decode(
        model,
        ids(&[&[4, 7, 3, 9, 5], &[8, 6, 0, 0, 0]]),
        pads(&[&[false; 5], &[false, false, true, true, true]]),
        1,
        2,
        6,
        &greedy,
        0,
    );
    assert_eq!(batch, vec![one(&[4, 7, 3, 9, 5]), one(&[8, 6])], "{what}");
    assert!(batch.iter().all(|row| row.len() <= 6 && !row.contains(&2)), "{what}: {batch:?}");
}

#[test]
fn the_transformer_ignores_source_padding_is_causal_in_the_target_and_decodes_rows_independently() {
    use crate::transformer::PositionKind;
    for (positions, pre_norm) in [(PositionKind::Sinusoidal, true), (PositionKind::Learned, false)] {
        let model = transformer(positions, pre_norm);
        let what = format!("Transformer, {positions:?}, pre_norm {pre_norm}");
        padded_equals_unpadded(&model, &what);
        causal_in_the_target(&model, &what);
        batch_decodes_as_rows_alone(&model, &what);
    }
}

#[test]
fn the_recurrent_encoder_decoder_ignores_source_padding_is_causal_and_decodes_rows_independently() {
    for (kind, attention) in [(CellKind::Lstm, true), (CellKind::Lstm, false), (CellKind::Gru, true)] {
        let model = recurrent(kind, attention);
        let what = format!("{kind:?}, attention {attention}");
        padded_equals_unpadded(&model, &what);
        causal_in_the_target(&model, &what);
        batch_decodes_as_rows_alone(&model, &what);
    }
}

#[test]
fn decoding_stops_at_the_length_limit_the_model_has_positions_for() {
    let model = transformer(crate::transformer::PositionKind::Learned, true);
    // max_len 12: a target of the begin token and at most 11 more.
    let written = decode(&model, ids(&[&[4, 7]]), pads(&[&[false; 2]]), 1, 12_345, 100, &Sampling::greedy(), 0);
    assert_eq!(written[0].len(), 11);
}

/// With zero query weights every score is equal, so each step's output is the output layer
/// applied to the mean of the values of the unpadded steps: a closed form of both-way and
/// cross-attention with padding.
#[test]
fn attention_with_equal_scores_averages_the_unpadded_values() {
    let device = Default::default();
    let mut attention = AttentionConfig::new(4, 2).init::<B>(&device);
    attention.query.weight = Param::from_tensor(Tensor::zeros([4, 4], &device));
    attention.query.bias = Some(Param::from_tensor(Tensor::zeros([4], &device)));
    let memory = Tensor::<B, 3>::from_data(
        TensorData::new((0..12).map(|v| v as f32 * 0.25 - 1.0).collect::<Vec<_>>(), [1, 3, 4]),
        &device,
    );
    let padding = pads(&[&[false, true, false]]);
    let kept = Tensor::cat(vec![memory.clone().narrow(1, 0, 1), memory.clone().narrow(1, 2, 1)], 1);
    let mean_value = attention.value.forward(kept).mean_dim(1);
    let want = values(attention.output.forward(mean_value));
    let queries = Tensor::<B, 3>::ones([1, 2, 4], &device);
    let cross = values(attention.forward_cross(queries, memory.clone(), Some(padding.clone())));
    assert!(close(&cross[..4], &want) && close(&cross[4..], &want), "{cross:?} vs {want:?}");
    let both_ways = values(attention.forward_bidirectional(memory, Some(padding)));
    for step in 0..3 {
        assert!(close(&both_ways[step * 4..step * 4 + 4], &want), "step {step}: {both_ways:?}");
    }
}
