use std::path::PathBuf;

/// A config problem, located in its file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct ConfigError {
    pub file: String,
    pub line: Option<usize>,
    pub message: String,
}

impl ConfigError {
    pub fn plain(file: impl std::fmt::Display, message: impl Into<String>) -> Self {
        Self { file: file.to_string(), line: None, message: message.into() }
    }
}

/// Everything kiln-train reports to its caller; the CLI prints it as one paragraph, exit code 2.
#[derive(Debug, thiserror::Error)]
pub enum KilnError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Data(#[from] kiln_data::DataError),
    #[error("backend '{name}' is not built into this kiln binary; rebuild with `cargo build --release --features {feature}` (built in: {built})")]
    BackendNotBuilt { name: String, feature: String, built: String },
    /// Built in, but this machine lacks what the backend loads at run time (a GPU driver).
    #[error("backend '{name}' cannot run on this machine: {reason}")]
    BackendUnusable { name: String, reason: String },
    #[error("unknown backend '{name}' (known: {known}){hint}")]
    UnknownBackend { name: String, known: String, hint: String },
    #[error("unknown model '{name}' (registered: {known}){hint}")]
    UnknownModel { name: String, known: String, hint: String },
    #[error("model '{model}': {message}")]
    ModelParams { model: String, message: String },
    #[error("{0}")]
    Unsupported(String),
    #[error("{what} '{path}': {source}")]
    Io {
        what: String,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot resume from '{path}': {reason}")]
    Resume { path: PathBuf, reason: String },
    /// `figure` says which training figure, and how often figures are read.
    #[error("{figure} became {value} by epoch {epoch}, step {step}; training stopped. {kept}")]
    NonFiniteLoss { figure: String, value: f64, epoch: usize, step: usize, kept: String },
    /// A DDP peer or process failed or went silent.
    #[error("DDP: {0}")]
    Ddp(String),
    /// The processes of one run were started differently; every rank reports it and refuses.
    #[error("DDP: {0}")]
    RanksDisagree(String),
    /// This peer stopped because another one failed; that one's error is the one to report.
    #[error("DDP peer {rank} stopped because another peer failed")]
    PeerAborted { rank: usize },
    #[error("checkpoint '{path}': {reason}")]
    Checkpoint { path: PathBuf, reason: String },
}

impl KilnError {
    /// Whether every process of a multi-process run meets this same error at the same point (a
    /// refusal at the start, a NaN in the summed figures), so they can all end in order instead
    /// of one aborting the others.
    pub fn is_on_every_rank(&self) -> bool {
        matches!(self, Self::RanksDisagree(_) | Self::NonFiniteLoss { .. })
    }

    pub fn io(what: impl Into<String>, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io { what: what.into(), path: path.into(), source }
    }
}

pub type Result<T, E = KilnError> = std::result::Result<T, E>;
