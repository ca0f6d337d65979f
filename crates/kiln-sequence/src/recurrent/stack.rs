//! Stacked recurrent layers, as `torch.nn.LSTM(num_layers, dropout, bidirectional)`.

use burn::nn::{Dropout, DropoutConfig};
use burn::prelude::*;

use super::{CellKind, LayerState, RecurrentLayer, RecurrentLayerConfig, RecurrentState};

/// `layers` recurrent layers of `kind`; with `bidirectional` each layer has a second one that
/// runs backwards in time and the outputs of both are concatenated (`2 · d_hidden` features).
#[derive(Config, Debug)]
pub struct RecurrentStackConfig {
    pub kind: CellKind,
    pub d_input: usize,
    pub d_hidden: usize,
    #[config(default = 1)]
    pub layers: usize,
    /// Dropout on the outputs of every layer but the last (PyTorch's `dropout`).
    #[config(default = 0.0)]
    pub dropout: f64,
    #[config(default = false)]
    pub bidirectional: bool,
    #[config(default = true)]
    pub bias: bool,
}

impl RecurrentStackConfig {
    pub fn directions(&self) -> usize {
        if self.bidirectional {
            2
        } else {
            1
        }
    }

    pub fn init<B: Backend>(&self, device: &B::Device) -> RecurrentStack<B> {
        let layer = |l: usize| {
            let d_input = if l == 0 { self.d_input } else { self.d_hidden * self.directions() };
            RecurrentLayerConfig::new(self.kind, d_input, self.d_hidden).with_bias(self.bias).init(device)
        };
        // Initialised in PyTorch's order (layer by layer, forward direction first).
        let mut forward = Vec::new();
        let mut backward = Vec::new();
        for l in 0..self.layers {
            forward.push(layer(l));
            if self.bidirectional {
                backward.push(layer(l));
            }
        }
        RecurrentStack { forward, backward, dropout: DropoutConfig::new(self.dropout).init(), d_hidden: self.d_hidden }
    }
}

#[derive(Module, Debug)]
pub struct RecurrentStack<B: Backend> {
    pub forward: Vec<RecurrentLayer<B>>,
    /// The backward-in-time layers; empty unless bidirectional.
    pub backward: Vec<RecurrentLayer<B>>,
    pub dropout: Dropout,
    pub d_hidden: usize,
}

impl<B: Backend> RecurrentStack<B> {
    /// Features of each output step: `d_hidden`, doubled when bidirectional.
    pub fn d_output(&self) -> usize {
        self.d_hidden * self.directions()
    }

    fn directions(&self) -> usize {
        if self.backward.is_empty() {
            1
        } else {
            2
        }
    }

    /// Runs the stack over `inputs` (one `[batch, d_input]` tensor per step) from `state` (zeros
    /// when `None`). `mask` (`[batch, steps]`, 1 for a real step and 0 for padding after a
    /// stream's end) keeps padding from changing any state or output. Returns one
    /// `[batch, d_output]` output per step and the final state.
    pub fn forward(
        &self,
        inputs: Vec<Tensor<B, 2>>,
        state: Option<RecurrentState<B>>,
        mask: Option<Tensor<B, 2>>,
    ) -> (Vec<Tensor<B, 2>>, RecurrentState<B>) {
        let steps = inputs.len();
        let keep: Option<Vec<Tensor<B, 2>>> = mask.map(|m| (0..steps).map(|t| m.clone().narrow(1, t, 1)).collect());
        let keep = keep.as_deref();
        let dirs = self.directions();
        let mut given = state.map(|s| s.layers.into_iter().map(Some).collect::<Vec<_>>());
        let mut take = |index: usize| given.as_mut().and_then(|g| g.get_mut(index).and_then(Option::take));
        let mut finals: Vec<LayerState<B>> = Vec::with_capacity(self.forward.len() * dirs);
        let mut x = inputs;
        for (l, layer) in self.forward.iter().enumerate() {
            if l > 0 {
                x = x.into_iter().map(|t| self.dropout.forward(t)).collect();
            }
            let (ahead, last) = layer.forward(&x, take(l * dirs), keep, false);
            finals.push(last);
            x = match self.backward.get(l) {
                Some(back) => {
                    let (behind, last) = back.forward(&x, take(l * dirs + 1), keep, true);
                    finals.push(last);
                    ahead.into_iter().zip(behind).map(|(a, b)| Tensor::cat(vec![a, b], 1)).collect()
                }
                None => ahead,
            };
        }
        (x, RecurrentState { layers: finals })
    }

    /// [`forward`](Self::forward) on a `[batch, steps, d_input]` tensor, returning
    /// `[batch, steps, d_output]`: for short sequences and inference (each step's slice costs a
    /// copy of the whole input in the backward pass, which [`forward`](Self::forward) avoids).
    pub fn forward_tensor(
        &self,
        input: Tensor<B, 3>,
        state: Option<RecurrentState<B>>,
        mask: Option<Tensor<B, 2>>,
    ) -> (Tensor<B, 3>, RecurrentState<B>) {
        let [batch, steps, features] = input.dims();
        let inputs = (0..steps).map(|t| input.clone().narrow(1, t, 1).reshape([batch, features])).collect();
        let (outputs, state) = self.forward(inputs, state, mask);
        (Tensor::stack(outputs, 1), state)
    }
}
