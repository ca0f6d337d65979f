//! `kiln bench --compare pytorch`: the same model, batch, input and device timed in PyTorch by
//! `benches/pytorch_bench.py`, right after kiln's steps, for a ratio measured side by side.

use std::path::PathBuf;
use std::process::Command;

use serde::{Deserialize, Serialize};

use super::{BenchInput, BenchOptions};
use crate::backend::DeviceName;
use crate::error::{KilnError, Result};

/// What the PyTorch side reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PytorchTiming {
    pub step_ms: f64,
    pub first_step_ms: f64,
    /// `torch.__version__` and its thread count, as the script prints them.
    pub torch: String,
    pub device: String,
}

/// `$KILN_PYTHON`, else `python3`.
fn python() -> String {
    std::env::var("KILN_PYTHON").unwrap_or_else(|_| "python3".into())
}

/// `$KILN_PYTORCH_BENCH`, else `benches/pytorch_bench.py` under the working directory.
fn script() -> PathBuf {
    std::env::var_os("KILN_PYTORCH_BENCH").map(PathBuf::from).unwrap_or_else(|| "benches/pytorch_bench.py".into())
}

/// The torch device for kiln's backend and device: the GPU backends' GPU, else the CPU.
fn torch_device(backend: &str, device: Option<DeviceName>) -> String {
    match (backend, device) {
        (_, Some(DeviceName::Cuda(n))) => format!("cuda:{n}"),
        (_, Some(DeviceName::Mps)) => "mps".into(),
        ("cuda", None) => "cuda".into(),
        _ => "cpu".into(),
    }
}

pub fn time_pytorch(options: &BenchOptions, input: BenchInput) -> Result<PytorchTiming> {
    let refuse = |why: String| KilnError::Unsupported(format!("--compare pytorch: {why}"));
    let script = script();
    if !script.is_file() {
        return Err(refuse(format!(
            "{} not found (run from the kiln checkout, or set KILN_PYTORCH_BENCH to the script)",
            script.display()
        )));
    }
    let device = torch_device(&options.backend, options.device);
    let output = Command::new(python())
        .arg(&script)
        .args(["--model", &options.model, "--device", &device])
        .args(["--batch-size", &options.batch_size.to_string()])
        .args(["--steps", &options.steps.to_string(), "--warmup", &options.warmup.to_string()])
        .args(match input {
            BenchInput::Image([c, h, w]) => vec!["--input".to_string(), format!("{c}x{h}x{w}")],
            BenchInput::Tokens { seq_len, vocab } => {
                vec!["--seq-len".into(), seq_len.to_string(), "--vocab".into(), vocab.to_string()]
            }
        })
        .output()
        .map_err(|e| refuse(format!("cannot start {} (set KILN_PYTHON to a Python with torch): {e}", python())))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let last = stderr.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("no message");
        return Err(refuse(format!("the PyTorch side failed: {last}")));
    }
    let torch = stdout.lines().find_map(|l| l.strip_prefix("# ")).unwrap_or("torch").to_string();
    let json_start = stdout.find('{').ok_or_else(|| refuse("the PyTorch side printed no result".into()))?;
    #[derive(Deserialize)]
    struct Printed {
        step_ms: f64,
        first_step_ms: f64,
    }
    let printed: Printed = serde_json::from_str(&stdout[json_start..])
        .map_err(|e| refuse(format!("cannot read the PyTorch side's result: {e}")))?;
    Ok(PytorchTiming { step_ms: printed.step_ms, first_step_ms: printed.first_step_ms, torch, device })
}
