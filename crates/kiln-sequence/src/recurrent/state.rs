//! What a recurrent network carries from one step (and one batch) to the next.

use burn::prelude::*;

/// One layer's (and direction's) state: `hidden` `[batch, d_hidden]`, and the LSTM's memory cell.
#[derive(Debug, Clone)]
pub struct LayerState<B: Backend> {
    pub hidden: Tensor<B, 2>,
    pub cell: Option<Tensor<B, 2>>,
}

impl<B: Backend> LayerState<B> {
    /// The zero state of `batch` streams (what PyTorch starts from when no state is given).
    pub fn zeros(batch: usize, d_hidden: usize, with_cell: bool, device: &B::Device) -> Self {
        let zeros = || Tensor::zeros([batch, d_hidden], device);
        Self { hidden: zeros(), cell: with_cell.then(zeros) }
    }

    /// The same values cut from the graph that made them: truncated BPTT carries the state into
    /// the next window without back-propagating into the last one.
    pub fn detach(self) -> Self {
        Self { hidden: self.hidden.detach(), cell: self.cell.map(Tensor::detach) }
    }

    /// Where `keep` (`[batch, 1]`, 1 or 0) is 1 this state, elsewhere `previous`: a padded step
    /// leaves a stream's state as it was.
    pub fn select(self, previous: Self, keep: &Tensor<B, 2>) -> Self {
        let mix = |new: Tensor<B, 2>, old: Tensor<B, 2>| {
            let keep = keep.clone();
            new * keep.clone() + old * keep.neg().add_scalar(1.0)
        };
        let cell = match (self.cell, previous.cell) {
            (Some(new), Some(old)) => Some(mix(new, old)),
            (new, _) => new,
        };
        Self { hidden: mix(self.hidden, previous.hidden), cell }
    }
}

/// A stack's state, one [`LayerState`] per layer and direction in PyTorch's order of `h_n`
/// (`layer · directions + direction`).
#[derive(Debug, Clone)]
pub struct RecurrentState<B: Backend> {
    pub layers: Vec<LayerState<B>>,
}

impl<B: Backend> RecurrentState<B> {
    pub fn detach(self) -> Self {
        Self { layers: self.layers.into_iter().map(LayerState::detach).collect() }
    }

    /// The number of streams the state is for.
    pub fn batch(&self) -> usize {
        self.layers.first().map_or(0, |l| l.hidden.dims()[0])
    }
}
