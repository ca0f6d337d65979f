//! Language modelling: next-token cross-entropy over windows of a text stream, the state carried
//! from window to window of the same parallel streams (truncated BPTT), scored in bits per
//! character so that tokenizers compare fairly; `kiln generate` continues a prompt.

pub mod data;
pub mod models;

use std::f64::consts::LN_2;
use std::marker::PhantomData;

use burn::module::AutodiffModule;
use burn::prelude::*;
use burn::tensor::backend::AutodiffBackend;
use kiln_losses::CrossEntropyConfig;
use kiln_sequence::generate::{beam_search, generate};
use kiln_sequence::language_model::LanguageModel;
use kiln_sequence::tokenize::{AnyTokenizer, Tokenizer};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

pub use data::{TextBatch, TextData, TokenStream, Windows};
use models::LanguageModelConfig;

use super::tokenizer_file::{check_saved_tokenizer, check_tokenizer_keys, save_tokenizer};
use super::{BatchKey, EvalContext, GenerateRequest, SectionProblem, Split, StepContext, Task, TaskEntry, TaskJob};
use crate::checkpoint::{CheckpointReader, CheckpointWriter};
use crate::config::{closest, ExperimentConfig, OptimSection, ParamProblem};
use crate::error::{KilnError, Result};
use crate::figures::Figures;
use crate::optimizer::AnyOptimizer;

pub const ENTRY: TaskEntry = TaskEntry {
    name: "language_model",
    summary: "language modelling on plain text: truncated BPTT, bits per character, kiln generate",
    check,
};

/// Figures every pass reports besides `loss` (nats per token).
pub const LANGUAGE_MODEL_METRICS: [&str; 2] = ["bits_per_char", "perplexity"];

fn check(cfg: &ExperimentConfig) -> std::result::Result<(), SectionProblem> {
    let at = |section, key: &str, message: String| {
        SectionProblem::new(section, ParamProblem { key: Some(key.into()), message })
    };
    let d = &cfg.data;
    data::check_dataset(&d.dataset).map_err(|m| at("data", "dataset", m))?;
    check_tokenizer_keys(d).map_err(|(key, message)| at("data", key, message))?;
    match d.seq_len {
        None => {
            return Err(at(
                "data",
                "dataset",
                "[data] seq_len (tokens per training window, the truncated-BPTT length) is required for language_model"
                    .into(),
            ))
        }
        Some(0) => return Err(at("data", "seq_len", "seq_len must be at least 1".into())),
        Some(_) => {}
    }
    if d.analogies.is_some() {
        return Err(at(
            "data",
            "analogies",
            "analogies are scored by [task] name = \"word2vec\"; a language model reports bits per character".into(),
        ));
    }
    if d.augment_shift != 0 || !d.eval_sizes.is_empty() {
        let key = if d.augment_shift != 0 { "augment_shift" } else { "eval_sizes" };
        return Err(at("data", key, format!("'{key}' is for images; a language model reads text")));
    }
    let model = models::config(&cfg.model.name, &cfg.model.params, 2).map_err(|p| SectionProblem::new("model", p))?;
    if let (Some(max_len), Some(seq_len)) = (model.max_len(), d.seq_len) {
        if seq_len > max_len {
            return Err(at(
                "data",
                "seq_len",
                format!("seq_len {seq_len} is longer than the model's max_len {max_len} ([model] max_len)"),
            ));
        }
    }
    let loss = &cfg.loss;
    if loss.name != "cross_entropy"
        || loss.label_smoothing != 0.0
        || loss.class_weights.is_some()
        || !loss.params.is_empty()
    {
        return Err(at(
            "loss",
            "name",
            "a language model trains on plain next-token cross-entropy: [loss] name = \"cross_entropy\", no other keys"
                .into(),
        ));
    }
    for name in &cfg.metrics.names {
        if !LANGUAGE_MODEL_METRICS.contains(&name.as_str()) {
            let hint =
                closest(name, LANGUAGE_MODEL_METRICS).map(|s| format!("; did you mean '{s}'?")).unwrap_or_default();
            return Err(at(
                "metrics",
                "names",
                format!(
                    "metric '{name}' is not one language_model computes ({}){hint}",
                    LANGUAGE_MODEL_METRICS.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

/// The language-model task of one experiment, for models of type `M`.
pub struct LanguageModelTask<M> {
    data: TextData,
    train_windows: Windows,
    optim: OptimSection,
    _model: PhantomData<fn() -> M>,
}

impl<M> LanguageModelTask<M> {
    pub fn new(cfg: &ExperimentConfig, data: TextData) -> Result<Self> {
        Self::with_optimizer(data, cfg.optim.clone())
    }

    /// The task on `data` stepping with `optim`.
    pub fn with_optimizer(data: TextData, optim: OptimSection) -> Result<Self> {
        let train_windows = data.train_windows().ok_or_else(|| {
            KilnError::Unsupported(format!("the training text has too few tokens for {} streams", data.train_lanes))
        })?;
        Ok(Self { data, train_windows, optim, _model: PhantomData })
    }

    pub fn tokenizer(&self) -> &AnyTokenizer {
        &self.data.tokenizer
    }

    fn stream(&self, split: Split) -> Option<&TokenStream> {
        match split {
            Split::Train => Some(&self.data.train),
            Split::Valid => self.data.valid.as_ref(),
            Split::Test => self.data.test.as_ref(),
        }
    }
}

/// Inputs `[rows, steps]` and flattened targets `[rows · steps]` on `device`.
fn to_device<B: Backend>(batch: &TextBatch, device: &B::Device) -> (Tensor<B, 2, Int>, Tensor<B, 1, Int>) {
    let inputs = Tensor::from_data(TensorData::new(batch.inputs.clone(), [batch.rows, batch.steps]), device);
    let targets = Tensor::from_data(TensorData::new(batch.targets.clone(), [batch.rows * batch.steps]), device);
    (inputs, targets)
}

/// Mean next-token cross-entropy (nats) of `logits` `[rows, steps, vocab]`.
fn token_loss<B: Backend>(logits: Tensor<B, 3>, targets: Tensor<B, 1, Int>) -> Tensor<B, 1> {
    let [rows, steps, vocab] = logits.dims();
    CrossEntropyConfig::new().init(&logits.device()).forward(logits.reshape([rows * steps, vocab]), targets)
}

/// Bits per character of a batch whose mean loss is `loss`: nats summed over its tokens,
/// divided by the characters they stand for and by ln 2.
fn bits_per_char<B: Backend>(loss: Tensor<B, 1>, batch: &TextBatch) -> Tensor<B, 1> {
    let tokens = (batch.rows * batch.steps) as f64;
    loss.mul_scalar(tokens / (batch.chars.max(1) as f64 * LN_2))
}

impl<B, M> Task<B> for LanguageModelTask<M>
where
    B: AutodiffBackend,
    M: AutodiffModule<B> + LanguageModel<B> + 'static,
    M::InnerModule: LanguageModel<B::InnerBackend>,
{
    type Model = M;
    type Optimizers = AnyOptimizer<M, B>;
    type Batch = TextBatch;
    type Carry = Option<<M as LanguageModel<B>>::State>;

    fn optimizers(&self) -> Self::Optimizers {
        AnyOptimizer::new(&self.optim)
    }

    fn train_examples(&self) -> Vec<usize> {
        (0..self.train_windows.examples()).collect()
    }

    fn shuffle(&self) -> bool {
        false
    }

    fn train_batch(&self, indices: &[usize], _key: BatchKey) -> TextBatch {
        TextBatch::new(&self.data.train, &self.train_windows, indices)
    }

    fn train_step(
        &self,
        model: M,
        optimizers: &mut Self::Optimizers,
        batch: TextBatch,
        carry: &mut Self::Carry,
        ctx: &mut StepContext<'_, B>,
    ) -> Result<M> {
        let (inputs, targets) = to_device::<B>(&batch, ctx.device);
        let (logits, state) = model.forward(inputs, carry.take());
        *carry = M::carry(state);
        let loss = token_loss(logits, targets);
        ctx.record("loss", loss.clone(), batch.rows * batch.steps);
        ctx.record("bits_per_char", bits_per_char(loss.clone().detach(), &batch), batch.chars);
        let grads = ctx.grads(loss, &model)?;
        Ok(optimizers.step(ctx.lr, model, grads))
    }

    fn has_split(&self, split: Split) -> bool {
        self.stream(split).is_some()
    }

    fn evaluate(&self, model: &M, split: Split, ctx: &mut EvalContext<'_, B::InnerBackend>) -> Result<Figures> {
        let Some(stream) = self.stream(split) else { return Ok(Figures::new()) };
        let windows = self.data.eval_windows(stream, ctx.batch_size).ok_or_else(|| {
            KilnError::Unsupported(format!(
                "the {} text has {} tokens, too few for {} parallel streams",
                split.name(),
                stream.len(),
                ctx.batch_size
            ))
        })?;
        let model = model.valid();
        let device = ctx.device;
        let phase = split.phase();
        let examples: Vec<usize> = (0..windows.examples()).collect();
        let mut state = None;
        let mut pass = ctx.begin(phase, examples.len());
        pass.run(
            &examples,
            |chunk| TextBatch::new(stream, &windows, chunk),
            |batch, meter| {
                let (inputs, targets) = to_device::<B::InnerBackend>(&batch, device);
                let (logits, next) = model.forward(inputs, state.take());
                state = <M::InnerModule as LanguageModel<B::InnerBackend>>::carry(next);
                let loss = token_loss(logits, targets);
                meter.add("loss", loss.clone(), batch.rows * batch.steps);
                meter.add("bits_per_char", bits_per_char(loss, &batch), batch.chars);
                Ok(())
            },
        )?;
        let mut figures = pass.end(Figures::new())?;
        if let Some(&loss) = figures.get("loss") {
            figures.insert("perplexity".into(), loss.exp());
        }
        Ok(figures)
    }

    fn save(&self, model: &M, optimizers: &Self::Optimizers, out: &mut CheckpointWriter) -> Result<()> {
        save_tokenizer(&self.data.tokenizer, out)?;
        out.model_and_optimizer(model, optimizers)
    }

    fn load(
        &self,
        model: M,
        optimizers: Self::Optimizers,
        from: &CheckpointReader,
        device: &B::Device,
    ) -> Result<(M, Self::Optimizers)> {
        check_saved_tokenizer(&self.data.tokenizer, from)?;
        from.model_and_optimizer(model, optimizers, device)
    }

    fn synthetic_batch(&self, batch_size: usize, seed: u64) -> TextBatch {
        let mut rng = StdRng::seed_from_u64(seed);
        let (rows, steps, vocab) = (batch_size, self.data.seq_len, self.data.tokenizer.vocab_size() as i64);
        let mut draw = |n: usize| (0..n).map(|_| rng.random_range(0..vocab)).collect::<Vec<i64>>();
        TextBatch { inputs: draw(rows * steps), targets: draw(rows * steps), rows, steps, chars: rows * steps }
    }

    fn generate(
        &self,
        model: &M,
        request: &GenerateRequest,
        device: &B::Device,
        emit: &mut dyn FnMut(&str),
    ) -> Result<String> {
        let tokenizer = &self.data.tokenizer;
        let unknown = tokenizer.unknown_chars(&request.prompt);
        if !unknown.is_empty() {
            return Err(KilnError::Unsupported(format!(
                "the prompt has characters the training text never had ({unknown:?}); the model cannot read them"
            )));
        }
        let prompt = tokenizer.encode(&request.prompt).map_err(|e| KilnError::Unsupported(e.to_string()))?;
        let model = model.valid();
        // The text goes on from the prompt, so the prompt is shown first.
        emit(&request.prompt);
        if let Some(width) = request.beam {
            let (tokens, _) = beam_search(&model, &prompt, request.max_tokens, width, device)
                .map_err(|e| KilnError::Unsupported(e.to_string()))?;
            let text = tokenizer.decode(&tokens);
            emit(&text);
            return Ok(text);
        }
        let mut text = String::new();
        // A byte-level token may end inside a character: bytes wait until they form text.
        let mut pending: Vec<u8> = Vec::new();
        let flush = |pending: &mut Vec<u8>, text: &mut String, emit: &mut dyn FnMut(&str)| {
            let valid = match std::str::from_utf8(pending) {
                Ok(all) => all.len(),
                Err(e) => e.valid_up_to(),
            };
            if valid > 0 {
                let piece = String::from_utf8(pending.drain(..valid).collect()).expect("checked UTF-8");
                emit(&piece);
                text.push_str(&piece);
            }
        };
        generate(&model, &prompt, request.max_tokens, &request.sampling, request.seed, device, |id| {
            pending.extend(tokenizer.token_bytes(id));
            flush(&mut pending, &mut text, emit);
        })
        .map_err(|e| KilnError::Unsupported(e.to_string()))?;
        if !pending.is_empty() {
            let rest = String::from_utf8_lossy(&pending).into_owned();
            emit(&rest);
            text.push_str(&rest);
        }
        Ok(text)
    }
}

/// Builds `[model]` for the tokenizer's vocabulary and hands it with the task to `job`.
pub(crate) fn assemble<B: AutodiffBackend, J: TaskJob<B>>(
    cfg: &ExperimentConfig,
    data: TextData,
    device: &B::Device,
    job: J,
) -> Result<J::Output> {
    let config = models::config(&cfg.model.name, &cfg.model.params, data.tokenizer.vocab_size())
        .map_err(|p| KilnError::ModelParams { model: cfg.model.name.clone(), message: p.message })?;
    match config {
        LanguageModelConfig::Recurrent(c) => job.run(LanguageModelTask::new(cfg, data)?, c.init::<B>(device)),
        LanguageModelConfig::Transformer(c) => job.run(LanguageModelTask::new(cfg, data)?, c.init::<B>(device)),
    }
}
