//! Checkpoints: `checkpoints/epoch-NNNN/` with one safetensors file per named module
//! (`model.safetensors`, `ema.safetensors`, `generator.safetensors`, …), one Burn record per named
//! optimizer (`optim/<name>.bin`) and `state.json`.
//!
//! Modules are stored with burn-store's safetensors format so that other tools (PyTorch's
//! `safetensors.torch.load_file`, `safetensors` in Python) read the weights. Optimizer state is
//! keyed by Burn's parameter ids, which only Burn reads, so it stays a Burn record. A checkpoint
//! directory is filled under a temporary name and renamed into place, so a run killed at any
//! moment leaves either the complete checkpoint or none. The two newest are kept.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::tensor::backend::Backend;
use burn_store::{ModuleSnapshot, SafetensorsStore};
use serde::{Deserialize, Serialize};

use crate::atomic::temp_sibling;
use crate::error::{KilnError, Result};
use crate::optimizer::OptimizerState;
use crate::records::EpochRecord;

const KEEP: usize = 2;
const STATE: &str = "state.json";

/// Where training stood when the checkpoint was written.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TrainerState {
    /// Epochs completed.
    pub epoch: usize,
    pub global_step: usize,
    pub history: Vec<EpochRecord>,
    /// Training seconds before this checkpoint (excludes time between a kill and a resume).
    pub train_seconds: f64,
    pub samples_seen: u64,
}

/// The named modules and optimizers a task saves.
#[derive(Default)]
pub struct CheckpointWriter {
    files: BTreeMap<PathBuf, Vec<u8>>,
}

fn check_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if ok {
        Ok(())
    } else {
        Err(format!("'{name}' is not a checkpoint entry name (letters, digits, '_' and '-')"))
    }
}

/// `module`'s tensors in safetensors format, named by their path in the module (`conv1.weight`).
pub fn module_bytes<B: Backend, M: Module<B>>(module: &M) -> Result<Vec<u8>, String> {
    let mut store = SafetensorsStore::from_bytes(None);
    module.save_into(&mut store).map_err(|e| e.to_string())?;
    store.get_bytes().map_err(|e| e.to_string())
}

/// `module` with its tensors read from safetensors `bytes`, which must hold every one of them.
pub fn load_module_bytes<B: Backend, M: Module<B>>(module: M, bytes: Vec<u8>) -> Result<M, String> {
    let mut store = SafetensorsStore::from_bytes(Some(bytes));
    let mut module = module;
    let result = module.load_from(&mut store).map_err(|e| e.to_string())?;
    if !result.missing.is_empty() || !result.errors.is_empty() || !result.unused.is_empty() {
        let missing: Vec<&str> = result.missing.iter().map(|(path, _)| path.as_str()).take(3).collect();
        return Err(format!(
            "it does not fit this model ({} tensors missing{}, {} unexpected, {} of the wrong shape or type); was the run's [model] changed?",
            result.missing.len(),
            if missing.is_empty() { String::new() } else { format!(": {}", missing.join(", ")) },
            result.unused.len(),
            result.errors.len()
        ));
    }
    Ok(module)
}

impl CheckpointWriter {
    /// Stores `module`'s tensors as `<name>.safetensors`.
    pub fn module<B: Backend, M: Module<B>>(&mut self, name: &str, module: &M) -> Result<()> {
        let failed =
            |reason: String| KilnError::Checkpoint { path: PathBuf::from(format!("{name}.safetensors")), reason };
        check_name(name).map_err(failed)?;
        let bytes = module_bytes(module).map_err(failed)?;
        self.files.insert(PathBuf::from(format!("{name}.safetensors")), bytes);
        Ok(())
    }

    /// A single-network task's checkpoint: its network as `model` and its optimizer as `model`.
    pub fn model_and_optimizer<B: Backend, M: Module<B>>(
        &mut self,
        model: &M,
        optimizer: &impl OptimizerState,
    ) -> Result<()> {
        self.module("model", model)?;
        self.optimizer("model", optimizer)
    }

    /// Stores a small file the task needs to read its modules back (a tokenizer's vocabulary),
    /// as `<name>` (letters, digits, '_', '-' and one '.').
    pub fn file(&mut self, name: &str, bytes: Vec<u8>) -> Result<()> {
        let failed = |reason: String| KilnError::Checkpoint { path: PathBuf::from(name), reason };
        check_name(&name.replacen('.', "_", 1)).map_err(failed)?;
        self.files.insert(PathBuf::from(name), bytes);
        Ok(())
    }

    /// Stores an optimizer's state as `optim/<name>.bin`.
    pub fn optimizer(&mut self, name: &str, optimizer: &impl OptimizerState) -> Result<()> {
        let path = PathBuf::from("optim").join(format!("{name}.bin"));
        let failed = |reason: String| KilnError::Checkpoint { path: path.clone(), reason };
        check_name(name).map_err(failed)?;
        let bytes = optimizer.state_bytes().map_err(failed)?;
        self.files.insert(path, bytes);
        Ok(())
    }
}

/// A complete checkpoint on disk.
pub struct CheckpointReader {
    pub dir: PathBuf,
    pub state: TrainerState,
}

impl CheckpointReader {
    fn read(&self, relative: &Path) -> Result<Vec<u8>> {
        fs::read(self.dir.join(relative)).map_err(|e| KilnError::Checkpoint {
            path: self.dir.clone(),
            reason: format!("cannot read {}: {e}", relative.display()),
        })
    }

    /// Loads `<name>.safetensors` into `module`, which must have every tensor it holds.
    pub fn module<B: Backend, M: Module<B>>(&self, name: &str, module: M) -> Result<M> {
        let file = PathBuf::from(format!("{name}.safetensors"));
        let bytes = self.read(&file)?;
        load_module_bytes(module, bytes).map_err(|reason| KilnError::Checkpoint { path: self.dir.join(&file), reason })
    }

    /// What [`CheckpointWriter::file`] stored as `name`.
    pub fn file(&self, name: &str) -> Result<Vec<u8>> {
        self.read(Path::new(name))
    }

    /// What [`CheckpointWriter::model_and_optimizer`] wrote.
    pub fn model_and_optimizer<B: Backend, M: Module<B>, O: OptimizerState>(
        &self,
        model: M,
        optimizer: O,
        device: &O::Device,
    ) -> Result<(M, O)> {
        Ok((self.module("model", model)?, self.optimizer("model", optimizer, device)?))
    }

    /// Loads `optim/<name>.bin` into `optimizer`.
    pub fn optimizer<O: OptimizerState>(&self, name: &str, optimizer: O, device: &O::Device) -> Result<O> {
        let file = PathBuf::from("optim").join(format!("{name}.bin"));
        let bytes = self.read(&file)?;
        optimizer
            .load_state_bytes(bytes, device)
            .map_err(|reason| KilnError::Checkpoint { path: self.dir.join(&file), reason })
    }
}

/// Writes `epoch-NNNN/` with `entries` and `state`; returns its path.
pub fn save(checkpoints: &Path, state: &TrainerState, entries: CheckpointWriter) -> Result<PathBuf> {
    let dir = checkpoints.join(format!("epoch-{:04}", state.epoch));
    let tmp = temp_sibling(&dir);
    let io = |e| KilnError::io("cannot write checkpoint", &dir, e);
    fs::create_dir_all(tmp.join("optim")).map_err(io)?;
    for (relative, bytes) in &entries.files {
        fs::write(tmp.join(relative), bytes).map_err(io)?;
    }
    fs::write(tmp.join(STATE), serde_json::to_vec_pretty(state).expect("state serialises")).map_err(io)?;
    if dir.exists() {
        fs::remove_dir_all(&dir).map_err(io)?;
    }
    fs::rename(&tmp, &dir).map_err(io)?;
    for old in list(checkpoints)?.into_iter().rev().skip(KEEP) {
        let _ = fs::remove_dir_all(old);
    }
    Ok(dir)
}

/// Complete checkpoint directories, oldest first.
pub fn list(checkpoints: &Path) -> Result<Vec<PathBuf>> {
    if !checkpoints.exists() {
        return Ok(Vec::new());
    }
    let mut dirs: Vec<PathBuf> = fs::read_dir(checkpoints)
        .map_err(|e| KilnError::io("cannot list checkpoints in", checkpoints, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir() && p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("epoch-")))
        .collect();
    dirs.sort();
    Ok(dirs)
}

/// The newest complete checkpoint, if any. A checkpoint of the format before named modules
/// (`model.bin` and `optimizer.bin`) is refused with the reason.
pub fn latest(checkpoints: &Path) -> Result<Option<CheckpointReader>> {
    let Some(dir) = list(checkpoints)?.pop() else { return Ok(None) };
    let bad = |reason: String| KilnError::Checkpoint { path: dir.clone(), reason };
    if dir.join("model.bin").is_file() && !dir.join("model.safetensors").is_file() {
        return Err(bad(
            "it was written by an earlier kiln (one model.bin and optimizer.bin, figures in fixed fields) and this kiln stores named modules in safetensors with named figures; it cannot be resumed or evaluated here. Continue it with the kiln version that wrote it, or start a new run".into(),
        ));
    }
    let text = fs::read(dir.join(STATE)).map_err(|e| bad(format!("cannot read {STATE}: {e}")))?;
    let state: TrainerState = serde_json::from_slice(&text).map_err(|e| bad(format!("{STATE}: {e}")))?;
    Ok(Some(CheckpointReader { dir, state }))
}
