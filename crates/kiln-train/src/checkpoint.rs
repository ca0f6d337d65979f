//! Checkpoints: `checkpoints/epoch-NNNN/{model.bin, optimizer.bin, state.json}`.
//!
//! A checkpoint directory is filled under a temporary name and renamed into place, so a run
//! killed at any moment leaves either the complete checkpoint or none. The two newest are kept.

use std::fs;
use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::record::{BinBytesRecorder, FullPrecisionSettings, Recorder};
use burn::tensor::backend::Backend;
use serde::{Deserialize, Serialize};

use crate::atomic::temp_sibling;
use crate::error::{KilnError, Result};
use crate::records::EpochRecord;

const KEEP: usize = 2;

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

/// A loaded checkpoint: its state and the raw records.
pub struct Checkpoint {
    pub dir: PathBuf,
    pub state: TrainerState,
    pub model: Vec<u8>,
    pub optimizer: Vec<u8>,
}

pub fn model_bytes<B: Backend, M: Module<B>>(model: &M) -> Result<Vec<u8>, String> {
    BinBytesRecorder::<FullPrecisionSettings>::default()
        .record(model.clone().into_record(), ())
        .map_err(|e| e.to_string())
}

pub fn load_model_bytes<B: Backend, M: Module<B>>(model: M, bytes: Vec<u8>, device: &B::Device) -> Result<M, String> {
    let record = BinBytesRecorder::<FullPrecisionSettings>::default().load(bytes, device).map_err(|e| e.to_string())?;
    Ok(model.load_record(record))
}

pub fn save(checkpoints: &Path, state: &TrainerState, model: &[u8], optimizer: &[u8]) -> Result<PathBuf> {
    let dir = checkpoints.join(format!("epoch-{:04}", state.epoch));
    let tmp = temp_sibling(&dir);
    let io = |e| KilnError::io("cannot write checkpoint", &dir, e);
    fs::create_dir_all(&tmp).map_err(io)?;
    fs::write(tmp.join("model.bin"), model).map_err(io)?;
    fs::write(tmp.join("optimizer.bin"), optimizer).map_err(io)?;
    fs::write(tmp.join("state.json"), serde_json::to_vec_pretty(state).expect("state serialises")).map_err(io)?;
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

/// The newest complete checkpoint, if any.
pub fn latest(checkpoints: &Path) -> Result<Option<Checkpoint>> {
    let Some(dir) = list(checkpoints)?.pop() else { return Ok(None) };
    let bad = |reason: String| KilnError::Checkpoint { path: dir.clone(), reason };
    let read = |name: &str| fs::read(dir.join(name)).map_err(|e| bad(format!("cannot read {name}: {e}")));
    let state: TrainerState =
        serde_json::from_slice(&read("state.json")?).map_err(|e| bad(format!("state.json: {e}")))?;
    Ok(Some(Checkpoint { model: read("model.bin")?, optimizer: read("optimizer.bin")?, state, dir }))
}
