//! The two embedding tables and the negative-sampling objective.

use burn::module::Initializer;
use burn::nn::{Embedding, EmbeddingConfig};
use burn::prelude::*;
use burn::tensor::activation::log_sigmoid;
use serde::{Deserialize, Serialize};

use super::Pairs;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Word2VecMode {
    /// A centre word predicts each word of its context.
    SkipGram,
    /// The mean of the context predicts the centre word.
    Cbow,
}

#[derive(Config, Debug)]
pub struct Word2VecConfig {
    pub mode: Word2VecMode,
    pub vocab_size: usize,
    #[config(default = 100)]
    pub dim: usize,
}

impl Word2VecConfig {
    /// Input vectors uniform in ±0.5/dim and output vectors zero, as word2vec's code starts.
    pub fn init<B: Backend>(&self, device: &B::Device) -> Word2Vec<B> {
        let bound = 0.5 / self.dim as f64;
        Word2Vec {
            input: EmbeddingConfig::new(self.vocab_size, self.dim)
                .with_initializer(Initializer::Uniform { min: -bound, max: bound })
                .init(device),
            output: EmbeddingConfig::new(self.vocab_size, self.dim).with_initializer(Initializer::Zeros).init(device),
            mode: self.mode,
        }
    }
}

/// `input` holds the word vectors users keep (`v` in the paper), `output` the context vectors
/// (`v'`).
#[derive(Module, Debug)]
pub struct Word2Vec<B: Backend> {
    pub input: Embedding<B>,
    pub output: Embedding<B>,
    #[module(skip)]
    pub mode: Word2VecMode,
}

impl<B: Backend> Word2Vec<B> {
    fn lookup(table: &Embedding<B>, ids: Vec<i64>, shape: [usize; 2], device: &B::Device) -> Tensor<B, 3> {
        table.forward(Tensor::from_data(TensorData::new(ids, shape), device))
    }

    /// The negative-sampling loss summed over `pairs` (Mikolov et al. 2013, Eq. 4):
    /// `−log σ(v'_o · h) − Σ_k log σ(−v'_k · h)`, with `h` the centre's input vector (skip-gram)
    /// or the mean of the context's (CBOW). Summed, not averaged, so that a learning rate means
    /// what it means in word2vec, where every pair takes its own step.
    pub fn loss(&self, pairs: &Pairs, device: &B::Device) -> Tensor<B, 1> {
        let n = pairs.len();
        let k = pairs.negatives.len() / n.max(1);
        let dim = self.input.weight.dims()[1];
        let hidden: Tensor<B, 3> = match self.mode {
            Word2VecMode::SkipGram => Self::lookup(&self.input, pairs.inputs.clone(), [n, 1], device),
            Word2VecMode::Cbow => {
                let w = pairs.width;
                let context = Self::lookup(&self.input, pairs.contexts.clone(), [n, w], device);
                let mask = Tensor::<B, 2>::from_data(TensorData::new(pairs.mask.clone(), [n, w]), device);
                let count = mask.clone().sum_dim(1).clamp_min(1.0).reshape([n, 1, 1]);
                (context * mask.reshape([n, w, 1])).sum_dim(1).div(count)
            }
        };
        let target = Self::lookup(&self.output, pairs.targets.clone(), [n, 1], device);
        let noise = Self::lookup(&self.output, pairs.negatives.clone(), [n, k], device);
        let positive = (hidden.clone() * target).sum_dim(2).reshape([n]);
        let negative = noise.matmul(hidden.reshape([n, dim, 1])).reshape([n, k]);
        -(log_sigmoid(positive).sum() + log_sigmoid(negative.neg()).sum())
    }
}
