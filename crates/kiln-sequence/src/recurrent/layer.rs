//! One recurrent layer run over time in one direction.

use burn::module::Initializer;
use burn::nn::{Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation::sigmoid;

use super::{CellKind, LayerState};

/// One layer of `kind` from `d_input` to `d_hidden` features.
#[derive(Config, Debug)]
pub struct RecurrentLayerConfig {
    pub kind: CellKind,
    pub d_input: usize,
    pub d_hidden: usize,
    /// `b_ih` and `b_hh`, as PyTorch's `bias=True`.
    #[config(default = true)]
    pub bias: bool,
}

impl RecurrentLayerConfig {
    /// Every weight and bias uniform in ±1/√d_hidden, as PyTorch initialises its recurrent layers.
    pub fn init<B: Backend>(&self, device: &B::Device) -> RecurrentLayer<B> {
        let bound = 1.0 / (self.d_hidden as f64).sqrt();
        let width = self.kind.gates() * self.d_hidden;
        let linear = |d_in| {
            LinearConfig::new(d_in, width)
                .with_bias(self.bias)
                .with_initializer(Initializer::Uniform { min: -bound, max: bound })
                .init(device)
        };
        RecurrentLayer {
            input: linear(self.d_input),
            hidden: linear(self.d_hidden),
            kind: self.kind,
            d_hidden: self.d_hidden,
        }
    }
}

/// A recurrent layer: `input` is PyTorch's `weight_ih`/`bias_ih` and `hidden` its
/// `weight_hh`/`bias_hh`, each producing every gate's block at once (stored transposed, as
/// Burn's `Linear` keeps `[d_input, d_output]`).
#[derive(Module, Debug)]
pub struct RecurrentLayer<B: Backend> {
    pub input: Linear<B>,
    pub hidden: Linear<B>,
    #[module(skip)]
    pub kind: CellKind,
    pub d_hidden: usize,
}

impl<B: Backend> RecurrentLayer<B> {
    /// The state after one step on `x` (`[batch, d_input]`), with the cell's equations
    /// (see [`CellKind`]).
    pub fn step(&self, x: Tensor<B, 2>, state: LayerState<B>) -> LayerState<B> {
        let from_input = self.input.forward(x);
        let from_hidden = self.hidden.forward(state.hidden.clone());
        match self.kind {
            CellKind::Rnn => LayerState { hidden: (from_input + from_hidden).tanh(), cell: None },
            CellKind::Lstm => {
                let gates = (from_input + from_hidden).chunk(4, 1);
                let [i, f, g, o]: [Tensor<B, 2>; 4] = gates.try_into().expect("four gate blocks");
                let cell_before = state.cell.expect("an LSTM state has a memory cell");
                let cell = sigmoid(f) * cell_before + sigmoid(i) * g.tanh();
                let hidden = sigmoid(o) * cell.clone().tanh();
                LayerState { hidden, cell: Some(cell) }
            }
            CellKind::Gru => {
                let [xr, xz, xn]: [Tensor<B, 2>; 3] = from_input.chunk(3, 1).try_into().expect("three gate blocks");
                let [hr, hz, hn]: [Tensor<B, 2>; 3] = from_hidden.chunk(3, 1).try_into().expect("three gate blocks");
                let reset = sigmoid(xr + hr);
                let update = sigmoid(xz + hz);
                let candidate = (xn + reset * hn).tanh();
                // h' = (1 − z) ⊙ n + z ⊙ h = n + z ⊙ (h − n)
                let hidden = candidate.clone() + update * (state.hidden - candidate);
                LayerState { hidden, cell: None }
            }
        }
    }

    /// Runs the layer over `inputs` (one `[batch, d_input]` tensor per step), from `state` or
    /// zeros, backwards in time when `reverse`. `keep` holds one `[batch, 1]` 0/1 tensor per
    /// step: where it is 0 (padding) the state passes through unchanged and the output is 0.
    /// Returns one output per step, in the order of `inputs`, and the final state.
    pub fn forward(
        &self,
        inputs: &[Tensor<B, 2>],
        state: Option<LayerState<B>>,
        keep: Option<&[Tensor<B, 2>]>,
        reverse: bool,
    ) -> (Vec<Tensor<B, 2>>, LayerState<B>) {
        let Some(first) = inputs.first() else {
            let state = state.expect("an empty sequence needs a state to return");
            return (Vec::new(), state);
        };
        let batch = first.dims()[0];
        let mut state =
            state.unwrap_or_else(|| LayerState::zeros(batch, self.d_hidden, self.kind.has_cell(), &first.device()));
        let mut outputs: Vec<Option<Tensor<B, 2>>> = vec![None; inputs.len()];
        let order: Box<dyn Iterator<Item = usize>> =
            if reverse { Box::new((0..inputs.len()).rev()) } else { Box::new(0..inputs.len()) };
        for t in order {
            let next = self.step(inputs[t].clone(), state.clone());
            match keep {
                Some(keep) => {
                    outputs[t] = Some(next.hidden.clone() * keep[t].clone());
                    state = next.select(state, &keep[t]);
                }
                None => {
                    outputs[t] = Some(next.hidden.clone());
                    state = next;
                }
            }
        }
        (outputs.into_iter().map(|o| o.expect("every step ran")).collect(), state)
    }
}
