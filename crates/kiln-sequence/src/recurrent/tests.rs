//! The cells against their equations evaluated by hand-written scalar code (PyTorch's
//! definitions, see [`CellKind`]), and masks against running each stream alone.

use burn::backend::NdArray;
use burn::module::Param;
use burn::prelude::*;

use super::*;

type B = NdArray;

/// Rows of `weight_ih` / `weight_hh` as PyTorch writes them: `[gates · hidden][inputs]`.
struct Weights {
    w_ih: Vec<Vec<f64>>,
    w_hh: Vec<Vec<f64>>,
    b_ih: Vec<f64>,
    b_hh: Vec<f64>,
}

fn weights(kind: CellKind, inputs: usize, hidden: usize) -> Weights {
    let rows = kind.gates() * hidden;
    // Hand-picked, distinct and mixed in sign so that a transposed or swapped block shows.
    let value = |r: usize, c: usize, salt: f64| ((r * 7 + c * 3) as f64 * 0.37 + salt).sin() * 0.8;
    Weights {
        w_ih: (0..rows).map(|r| (0..inputs).map(|c| value(r, c, 0.1)).collect()).collect(),
        w_hh: (0..rows).map(|r| (0..hidden).map(|c| value(r, c, 1.3)).collect()).collect(),
        b_ih: (0..rows).map(|r| value(r, 0, 2.9) * 0.5).collect(),
        b_hh: (0..rows).map(|r| value(r, 1, 4.1) * 0.5).collect(),
    }
}

/// A layer holding `w` (Burn's Linear keeps the transpose, `[inputs, outputs]`).
fn layer(kind: CellKind, inputs: usize, hidden: usize, w: &Weights) -> RecurrentLayer<B> {
    let device = Default::default();
    let mut layer = RecurrentLayerConfig::new(kind, inputs, hidden).init::<B>(&device);
    let transpose = |m: &Vec<Vec<f64>>| {
        let (rows, cols) = (m.len(), m[0].len());
        let flat: Vec<f32> = (0..cols).flat_map(|c| (0..rows).map(move |r| m[r][c] as f32)).collect();
        Param::from_tensor(Tensor::<B, 2>::from_data(TensorData::new(flat, [cols, rows]), &device))
    };
    let vector = |v: &Vec<f64>| {
        let flat: Vec<f32> = v.iter().map(|&x| x as f32).collect();
        Param::from_tensor(Tensor::<B, 1>::from_data(TensorData::new(flat, [v.len()]), &device))
    };
    layer.input.weight = transpose(&w.w_ih);
    layer.hidden.weight = transpose(&w.w_hh);
    layer.input.bias = Some(vector(&w.b_ih));
    layer.hidden.bias = Some(vector(&w.b_hh));
    layer
}

fn affine(m: &[Vec<f64>], b: &[f64], x: &[f64]) -> Vec<f64> {
    m.iter().zip(b).map(|(row, b)| row.iter().zip(x).map(|(w, x)| w * x).sum::<f64>() + b).collect()
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// One step of `kind` in plain f64: (h, c).
fn reference_step(kind: CellKind, w: &Weights, x: &[f64], h: &[f64], c: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let n = h.len();
    let gx = affine(&w.w_ih, &w.b_ih, x);
    let gh = affine(&w.w_hh, &w.b_hh, h);
    let block = |v: &[f64], k: usize| v[k * n..(k + 1) * n].to_vec();
    match kind {
        CellKind::Rnn => ((0..n).map(|j| (gx[j] + gh[j]).tanh()).collect(), vec![]),
        CellKind::Lstm => {
            let g: Vec<f64> = gx.iter().zip(&gh).map(|(a, b)| a + b).collect();
            let (i, f, gg, o) = (block(&g, 0), block(&g, 1), block(&g, 2), block(&g, 3));
            let c: Vec<f64> = (0..n).map(|j| sigmoid(f[j]) * c[j] + sigmoid(i[j]) * gg[j].tanh()).collect();
            ((0..n).map(|j| sigmoid(o[j]) * c[j].tanh()).collect(), c)
        }
        CellKind::Gru => {
            let r: Vec<f64> = (0..n).map(|j| sigmoid(gx[j] + gh[j])).collect();
            let z: Vec<f64> = (0..n).map(|j| sigmoid(gx[n + j] + gh[n + j])).collect();
            let cand: Vec<f64> = (0..n).map(|j| (gx[2 * n + j] + r[j] * gh[2 * n + j]).tanh()).collect();
            ((0..n).map(|j| (1.0 - z[j]) * cand[j] + z[j] * h[j]).collect(), vec![])
        }
    }
}

fn to_vec(t: Tensor<B, 2>) -> Vec<f32> {
    t.into_data().convert::<f32>().to_vec().unwrap()
}

fn inputs(batch: usize, features: usize, steps: usize) -> Vec<Vec<Vec<f64>>> {
    // [step][stream][feature]
    (0..steps)
        .map(|t| {
            (0..batch).map(|b| (0..features).map(|f| ((t * 5 + b * 3 + f) as f64 * 0.91).cos()).collect()).collect()
        })
        .collect()
}

fn as_tensors(xs: &[Vec<Vec<f64>>]) -> Vec<Tensor<B, 2>> {
    xs.iter()
        .map(|step| {
            let (batch, features) = (step.len(), step[0].len());
            let flat: Vec<f32> = step.iter().flatten().map(|&v| v as f32).collect();
            Tensor::from_data(TensorData::new(flat, [batch, features]), &Default::default())
        })
        .collect()
}

#[test]
fn every_cell_follows_its_equations_over_several_steps() {
    let (features, hidden, batch, steps) = (3, 2, 2, 4);
    for kind in [CellKind::Rnn, CellKind::Lstm, CellKind::Gru] {
        let w = weights(kind, features, hidden);
        let net = layer(kind, features, hidden, &w);
        let xs = inputs(batch, features, steps);
        let (outputs, last) = net.forward(&as_tensors(&xs), None, None, false);
        for b in 0..batch {
            let (mut h, mut c) = (vec![0.0; hidden], vec![0.0; hidden]);
            for t in 0..steps {
                (h, c) = reference_step(kind, &w, &xs[t][b], &h, &c);
                let got = to_vec(outputs[t].clone());
                for j in 0..hidden {
                    let g = f64::from(got[b * hidden + j]);
                    assert!((g - h[j]).abs() < 1e-5, "{kind:?} stream {b} step {t} unit {j}: {g} vs {}", h[j]);
                }
            }
            let final_h = to_vec(last.hidden.clone());
            assert!((f64::from(final_h[b * hidden]) - h[0]).abs() < 1e-5, "{kind:?} final state");
            if kind == CellKind::Lstm {
                let final_c = to_vec(last.cell.clone().unwrap());
                assert!((f64::from(final_c[b * hidden + 1]) - c[1]).abs() < 1e-5, "LSTM final cell");
            }
        }
    }
}

#[test]
fn a_reversed_layer_reads_time_backwards() {
    let (features, hidden) = (2, 3);
    let w = weights(CellKind::Gru, features, hidden);
    let net = layer(CellKind::Gru, features, hidden, &w);
    let xs = inputs(1, features, 3);
    let (outputs, _) = net.forward(&as_tensors(&xs), None, None, true);
    // The output at step 0 has seen steps 2, 1, 0.
    let mut h = vec![0.0; hidden];
    for t in (0..3).rev() {
        h = reference_step(CellKind::Gru, &w, &xs[t][0], &h, &[]).0;
    }
    let got = to_vec(outputs[0].clone());
    for j in 0..hidden {
        assert!((f64::from(got[j]) - h[j]).abs() < 1e-5);
    }
}

#[test]
fn padding_changes_nothing_under_the_mask() {
    let device = Default::default();
    let (features, hidden, steps, length) = (3, 4, 5, 2);
    for kind in [CellKind::Lstm, CellKind::Gru] {
        let stack = RecurrentStackConfig::new(kind, features, hidden)
            .with_layers(2)
            .with_bidirectional(true)
            .init::<B>(&device);
        // Stream 1 ends after `length` steps; what follows it is arbitrary padding.
        let xs = inputs(2, features, steps);
        let mut mask = vec![1.0f32; 2 * steps];
        for t in length..steps {
            mask[steps + t] = 0.0;
        }
        let mask = Tensor::<B, 2>::from_data(TensorData::new(mask, [2, steps]), &device);
        let (padded, state) = stack.forward(as_tensors(&xs), None, Some(mask));
        // Stream 1 alone, unpadded.
        let alone: Vec<Vec<Vec<f64>>> = xs[..length].iter().map(|step| vec![step[1].clone()]).collect();
        let (outputs, alone_state) = stack.forward(as_tensors(&alone), None, None);
        for t in 0..steps {
            let row = to_vec(padded[t].clone())[2 * hidden..].to_vec();
            if t < length {
                let want = to_vec(outputs[t].clone());
                assert!(row.iter().zip(&want).all(|(a, b)| (a - b).abs() < 1e-5), "{kind:?} step {t}");
            } else {
                assert!(row.iter().all(|&v| v == 0.0), "{kind:?}: padding step {t} has output {row:?}");
            }
        }
        for (l, (p, a)) in state.layers.iter().zip(&alone_state.layers).enumerate() {
            let p = to_vec(p.hidden.clone())[hidden..].to_vec();
            let a = to_vec(a.hidden.clone());
            assert!(p.iter().zip(&a).all(|(x, y)| (x - y).abs() < 1e-5), "{kind:?} final state {l}");
        }
    }
}
