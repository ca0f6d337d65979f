//! Word2Vec: skip-gram or CBOW with negative sampling on the words of a text (Mikolov et al.
//! 2013), scored by the held-out text's loss and by analogy accuracy on a `questions-words.txt`
//! file; `kiln similar` and `kiln analogy` query a trained run.

use std::marker::PhantomData;
use std::path::Path;

use burn::module::AutodiffModule;
use burn::prelude::*;
use burn::tensor::backend::AutodiffBackend;
use kiln_data::{read_text, TextCorpus};
use kiln_sequence::word2vec::{
    AnalogyQuestion, Embeddings, PairSampler, Pairs, Word2Vec, Word2VecConfig, Word2VecMode, WordVocab,
};
use serde::{Deserialize, Serialize};

use super::{BatchKey, EvalContext, SectionProblem, Split, StepContext, Task, TaskEntry, TaskJob, WordQuery};
use crate::checkpoint::{CheckpointReader, CheckpointWriter};
use crate::config::{closest, overlay_config, ExperimentConfig, OptimSection, ParamProblem, Strategy};
use crate::error::{KilnError, Result};
use crate::figures::Figures;
use crate::optimizer::AnyOptimizer;
use crate::progress::Phase;

pub const ENTRY: TaskEntry = TaskEntry {
    name: "word2vec",
    summary: "word vectors: skip-gram or CBOW with negative sampling, analogy accuracy, kiln similar / analogy",
    check,
};

/// `[model] name`s and the objective each trains.
pub const MODELS: [(&str, Word2VecMode); 2] = [("skipgram", Word2VecMode::SkipGram), ("cbow", Word2VecMode::Cbow)];

const VOCAB_FILE: &str = "vocab.json";
/// The word vectors in word2vec's text format, beside every checkpoint.
pub const VECTORS_FILE: &str = "vectors.txt";

/// The `[model]` keys: word2vec's own command-line settings, with its defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Word2VecParams {
    /// Vector size (`-size`).
    pub dim: usize,
    /// Largest distance between a centre and a context word (`-window`); each centre draws its
    /// own window in `1..=window`.
    pub window: usize,
    /// Noise words per pair (`-negative`).
    pub negatives: usize,
    /// The sub-sampling threshold `t` (`-sample`); 0 keeps every word.
    pub subsample: f64,
    /// Words seen fewer times are dropped (`-min-count`).
    pub min_count: u64,
}

impl Default for Word2VecParams {
    fn default() -> Self {
        Self { dim: 100, window: 5, negatives: 5, subsample: 1e-3, min_count: 5 }
    }
}

fn mode(name: &str) -> std::result::Result<Word2VecMode, ParamProblem> {
    MODELS.iter().find(|(n, _)| *n == name).map(|(_, m)| *m).ok_or_else(|| {
        let names: Vec<&str> = MODELS.iter().map(|(n, _)| *n).collect();
        let hint = closest(name, names.iter().copied()).map(|s| format!("; did you mean '{s}'?")).unwrap_or_default();
        ParamProblem {
            key: None,
            message: format!("unknown word2vec model '{name}' (known: {}){hint}", names.join(", ")),
        }
    })
}

/// The model's settings from `[model]`.
pub fn params(params: &toml::Table) -> std::result::Result<Word2VecParams, ParamProblem> {
    let p = overlay_config(Word2VecParams::default(), params, "model")?;
    let bad = |key: &str, message: String| Err(ParamProblem { key: Some(key.into()), message });
    if p.dim == 0 {
        return bad("dim", "dim must be at least 1".into());
    }
    if p.window == 0 {
        return bad("window", "window must be at least 1".into());
    }
    if p.negatives == 0 {
        return bad("negatives", "negatives must be at least 1 (negative sampling needs noise words)".into());
    }
    if !(p.subsample >= 0.0 && p.subsample.is_finite()) {
        return bad(
            "subsample",
            format!("subsample must be 0 (off) or a small positive threshold, not {}", p.subsample),
        );
    }
    Ok(p)
}

fn check(cfg: &ExperimentConfig) -> std::result::Result<(), SectionProblem> {
    let at = |section, key: &str, message: String| {
        SectionProblem::new(section, ParamProblem { key: Some(key.into()), message })
    };
    let d = &cfg.data;
    if d.dataset != "text" {
        return Err(at("data", "dataset", format!("unknown dataset '{}' in [data] for word2vec (known: text: a folder of train.txt, and test.txt for the held-out loss)", d.dataset)));
    }
    for (key, set) in
        [("seq_len", d.seq_len.is_some()), ("tokenizer", d.tokenizer.is_some()), ("vocab_size", d.vocab_size.is_some())]
    {
        if set {
            return Err(at("data", key, format!("'{key}' is a language-model setting; word2vec reads words, sets its vocabulary with [model] min_count and its window with [model] window")));
        }
    }
    mode(&cfg.model.name).map_err(|p| SectionProblem::new("model", p))?;
    params(&cfg.model.params).map_err(|p| SectionProblem::new("model", p))?;
    let loss = &cfg.loss;
    let default = loss.name == "cross_entropy"
        && loss.params.is_empty()
        && loss.label_smoothing == 0.0
        && loss.class_weights.is_none();
    if !(default || (loss.name == "negative_sampling" && loss.params.is_empty())) {
        return Err(at("loss", "name", "word2vec trains on its negative-sampling objective: [loss] name = \"negative_sampling\" (or no [loss]); the noise is set by [model] negatives".into()));
    }
    if !cfg.metrics.names.is_empty() {
        return Err(at("metrics", "names", "word2vec reports loss and, with [data] analogies, analogy_accuracy (semantic, syntactic, coverage); it takes no [metrics] names".into()));
    }
    if cfg.train.strategy == Strategy::Ddp {
        return Err(at("train", "strategy", "word2vec trains on one device: a batch can lose every pair to sub-sampling, and DDP peers must all step together".into()));
    }
    Ok(())
}

/// Word2Vec's data: the vocabulary, the training words and the held-out ones.
pub struct Word2VecData {
    pub vocab: WordVocab,
    pub train: Vec<u32>,
    pub valid: Option<Vec<u32>>,
    pub test: Option<Vec<u32>>,
    pub questions: Option<Vec<AnalogyQuestion>>,
}

impl Word2VecData {
    pub fn load(cfg: &ExperimentConfig) -> Result<Self> {
        let p = params(&cfg.model.params)
            .map_err(|p| KilnError::ModelParams { model: cfg.model.name.clone(), message: p.message })?;
        let corpus = TextCorpus::load(Path::new(&cfg.data.root), cfg.data.limit)?;
        let vocab = WordVocab::fit(&corpus.train, p.min_count);
        if vocab.len() < 2 {
            return Err(KilnError::Unsupported(format!(
                "the training text in '{}' has {} words seen at least {} times ([model] min_count); word2vec needs at least 2",
                cfg.data.root,
                vocab.len(),
                p.min_count
            )));
        }
        let questions = match &cfg.data.analogies {
            None => None,
            Some(path) => {
                let text = read_text(Path::new(path))?;
                let questions = AnalogyQuestion::parse_file(&text)
                    .map_err(|e| KilnError::Unsupported(format!("analogy file '{path}': {e}")))?;
                Some(questions)
            }
        };
        Ok(Self {
            train: vocab.encode(&corpus.train),
            valid: corpus.valid.as_deref().map(|t| vocab.encode(t)),
            test: corpus.test.as_deref().map(|t| vocab.encode(t)),
            vocab,
            questions,
        })
    }
}

pub struct Word2VecTask<M> {
    data: Word2VecData,
    sampler: PairSampler,
    cbow: bool,
    seed: u64,
    optim: OptimSection,
    _model: PhantomData<fn() -> M>,
}

impl<M> Word2VecTask<M> {
    fn stream(&self, split: Split) -> Option<&[u32]> {
        match split {
            Split::Train => Some(&self.data.train),
            Split::Valid => self.data.valid.as_deref(),
            Split::Test => self.data.test.as_deref(),
        }
    }
}

fn embeddings<B: Backend>(model: &Word2Vec<B>, vocab: &WordVocab) -> Embeddings {
    let [_, dim] = model.input.weight.dims();
    let vectors = model.input.weight.val().into_data().convert::<f32>().to_vec().expect("float vectors");
    Embeddings::new(vocab.clone(), dim, vectors)
}

impl<B: AutodiffBackend> Task<B> for Word2VecTask<Word2Vec<B>> {
    type Model = Word2Vec<B>;
    type Optimizers = AnyOptimizer<Word2Vec<B>, B>;
    type Batch = Pairs;
    type Carry = ();

    fn optimizers(&self) -> Self::Optimizers {
        AnyOptimizer::new(&self.optim)
    }

    fn train_examples(&self) -> Vec<usize> {
        (0..self.data.train.len()).collect()
    }

    fn train_batch(&self, indices: &[usize], key: BatchKey) -> Pairs {
        self.sampler.pairs(&self.data.train, indices, self.cbow, key.seed())
    }

    fn train_step(
        &self,
        model: Word2Vec<B>,
        optimizers: &mut Self::Optimizers,
        pairs: Pairs,
        _carry: &mut (),
        ctx: &mut StepContext<'_, B>,
    ) -> Result<Word2Vec<B>> {
        if pairs.is_empty() {
            // Every centre of the batch was sub-sampled away: nothing to learn from.
            return Ok(model);
        }
        let loss = model.loss(&pairs, ctx.device);
        ctx.record("loss", loss.clone().detach().div_scalar(pairs.len() as f64), pairs.len());
        let grads = ctx.grads(loss, &model)?;
        Ok(optimizers.step(ctx.lr, model, grads))
    }

    fn has_split(&self, split: Split) -> bool {
        self.stream(split).is_some() || (split == Split::Valid && self.data.questions.is_some())
    }

    fn evaluate(
        &self,
        model: &Word2Vec<B>,
        split: Split,
        ctx: &mut EvalContext<'_, B::InnerBackend>,
    ) -> Result<Figures> {
        let model = model.valid();
        let mut figures = Figures::new();
        if let Some(stream) = self.stream(split) {
            let phase = if split == Split::Test { Phase::Test } else { Phase::Valid };
            let positions: Vec<usize> = (0..stream.len()).collect();
            let device = ctx.device;
            let mut pass = ctx.begin(phase, positions.len());
            // The same pairs every time: one fixed seed per split.
            let seed = self.seed ^ 0x5EED_0F_0E7A1;
            pass.run(
                &positions,
                |chunk| self.sampler.pairs(stream, chunk, self.cbow, seed ^ chunk[0] as u64),
                |pairs, meter| {
                    if !pairs.is_empty() {
                        meter.add("loss", model.loss(&pairs, device).div_scalar(pairs.len() as f64), pairs.len());
                    }
                    Ok(())
                },
            )?;
            figures = pass.end(Figures::new())?;
        }
        if let Some(questions) = &self.data.questions {
            let score = embeddings(&model, &self.data.vocab).score(questions);
            let share = |(right, asked): (usize, usize)| right as f64 / asked.max(1) as f64;
            figures.insert("analogy_accuracy".into(), score.accuracy());
            figures.insert("analogy_semantic".into(), share(score.semantic));
            figures.insert("analogy_syntactic".into(), share(score.syntactic));
            figures.insert("analogy_coverage".into(), score.coverage());
        }
        Ok(figures)
    }

    fn save(&self, model: &Word2Vec<B>, optimizers: &Self::Optimizers, out: &mut CheckpointWriter) -> Result<()> {
        out.file(VOCAB_FILE, self.data.vocab.to_json().into_bytes())?;
        let mut vectors = Vec::new();
        embeddings(model, &self.data.vocab)
            .write_word2vec_text(&mut vectors)
            .map_err(|e| KilnError::io("cannot write word vectors", VECTORS_FILE, e))?;
        out.file(VECTORS_FILE, vectors)?;
        out.model_and_optimizer(model, optimizers)
    }

    fn load(
        &self,
        model: Word2Vec<B>,
        optimizers: Self::Optimizers,
        from: &CheckpointReader,
        device: &B::Device,
    ) -> Result<(Word2Vec<B>, Self::Optimizers)> {
        let bad = |reason: String| KilnError::Checkpoint { path: from.dir.join(VOCAB_FILE), reason };
        let saved = String::from_utf8(from.file(VOCAB_FILE)?).map_err(|e| bad(e.to_string()))?;
        let saved = WordVocab::from_json(&saved).map_err(|e| bad(e.to_string()))?;
        if saved.words != self.data.vocab.words {
            return Err(bad(format!(
                "the run was trained on a vocabulary of {} words that the training text under [data] root no longer gives (it gives {}); the text or [model] min_count has changed since",
                saved.len(),
                self.data.vocab.len()
            )));
        }
        from.model_and_optimizer(model, optimizers, device)
    }

    fn synthetic_batch(&self, batch_size: usize, seed: u64) -> Pairs {
        let positions: Vec<usize> = (0..batch_size.min(self.data.train.len())).collect();
        self.sampler.pairs(&self.data.train, &positions, self.cbow, seed)
    }

    fn words(&self, model: &Word2Vec<B>, query: &WordQuery) -> Result<Vec<(String, f64)>> {
        let e = embeddings(&model.valid(), &self.data.vocab);
        let found = match query {
            WordQuery::Similar { word, top } => e.similar(word, *top).ok_or_else(|| {
                KilnError::Unsupported(format!("'{word}' is not in the run's vocabulary of {} words", e.vocab.len()))
            })?,
            WordQuery::Analogy { a, b, c, top } => e.analogy(a, b, c, *top).map_err(KilnError::Unsupported)?,
        };
        Ok(found.into_iter().map(|(w, s)| (w, f64::from(s))).collect())
    }
}

/// Builds the vectors of `[model]` for the vocabulary and hands them with the task to `job`.
pub(crate) fn assemble<B: AutodiffBackend, J: TaskJob<B>>(
    cfg: &ExperimentConfig,
    data: Word2VecData,
    device: &B::Device,
    job: J,
) -> Result<J::Output> {
    let message = |p: ParamProblem| KilnError::ModelParams { model: cfg.model.name.clone(), message: p.message };
    let mode = mode(&cfg.model.name).map_err(message)?;
    let p = params(&cfg.model.params).map_err(message)?;
    let model = Word2VecConfig::new(mode, data.vocab.len()).with_dim(p.dim).init::<B>(device);
    let sampler = PairSampler::new(&data.vocab.counts, p.window, p.negatives, p.subsample);
    let task = Word2VecTask {
        data,
        sampler,
        cbow: mode == Word2VecMode::Cbow,
        seed: cfg.experiment.seed,
        optim: cfg.optim.clone(),
        _model: PhantomData,
    };
    job.run(task, model)
}
