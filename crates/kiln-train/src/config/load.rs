//! Reading an experiment file into an [`ExperimentConfig`], with errors that name the file,
//! line, section and key, and suggest the key that was probably meant.

use std::path::Path;

use serde::Deserialize;

use super::{closest, ExperimentConfig};
use crate::error::ConfigError;

/// One `--set section.key=value` override. The value is read as a TOML value when it parses as
/// one (`0.01`, `true`, `[0.9, 0.99]`) and as a string otherwise (`wgpu`).
#[derive(Debug, Clone, PartialEq)]
pub struct Override {
    pub path: Vec<String>,
    pub value: toml::Value,
}

/// Parses `section.key=value`.
///
/// ```
/// let o = kiln_train::config::parse_override("optim.lr=0.01").unwrap();
/// assert_eq!(o.path, ["optim", "lr"]);
/// assert_eq!(o.value, toml::Value::Float(0.01));
/// ```
pub fn parse_override(text: &str) -> Result<Override, ConfigError> {
    let invalid = |why: &str| {
        ConfigError::plain("--set", format!("'{text}' {why}; expected section.key=value, e.g. optim.lr=0.01"))
    };
    let (key, raw) = text.split_once('=').ok_or_else(|| invalid("has no '='"))?;
    let path: Vec<String> = key.trim().split('.').map(|s| s.trim().to_string()).collect();
    if path.len() < 2 || path.iter().any(String::is_empty) {
        return Err(invalid("does not name a section and a key"));
    }
    let raw = raw.trim();
    let value = toml::from_str::<toml::Table>(&format!("v = {raw}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(raw.to_string()));
    Ok(Override { path, value })
}

/// Reads `path`, applies `overrides`, and returns the validated config.
pub fn load_experiment(path: &Path, overrides: &[Override]) -> Result<ExperimentConfig, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigError::plain(path.display(), format!("cannot read the experiment file: {e}")))?;
    parse_experiment(&text, &path.display().to_string(), overrides)
}

/// [`load_experiment`] on text already in memory; `file` labels errors.
pub fn parse_experiment(text: &str, file: &str, overrides: &[Override]) -> Result<ExperimentConfig, ConfigError> {
    // Deserialise the file as written first, so that errors point at its lines.
    let as_written: ExperimentConfig = toml::from_str(text).map_err(|e| locate(e, text, file))?;
    let config = if overrides.is_empty() {
        as_written
    } else {
        let mut table: toml::Table = toml::from_str(text).map_err(|e| locate(e, text, file))?;
        for o in overrides {
            apply(&mut table, o)?;
        }
        ExperimentConfig::deserialize(toml::Value::Table(table)).map_err(|e| {
            let keys: Vec<String> = overrides.iter().map(|o| o.path.join(".")).collect();
            ConfigError::plain(
                "--set",
                format!("{} (after applying {})", describe(e.message(), None).0, keys.join(", ")),
            )
        })?
    };
    validate(&config).map_err(|message| ConfigError::plain(file, message))?;
    // Each task checks its own [model], [data], [loss] and [metrics].
    let entry = crate::task::entry(&config.task.name).map_err(|message| ConfigError {
        file: file.to_string(),
        line: line_of_key(text, "task", "name"),
        message,
    })?;
    (entry.check)(&config).map_err(|p| {
        let key = p.problem.key.as_deref().unwrap_or("name");
        ConfigError { file: file.to_string(), line: line_of_key(text, p.section, key), message: p.problem.message }
    })?;
    Ok(config)
}

fn apply(table: &mut toml::Table, o: &Override) -> Result<(), ConfigError> {
    let (last, sections) = o.path.split_last().expect("parse_override guarantees two parts");
    let mut current = table;
    for section in sections {
        let entry = current.entry(section.clone()).or_insert_with(|| toml::Value::Table(Default::default()));
        current = entry
            .as_table_mut()
            .ok_or_else(|| ConfigError::plain("--set", format!("'{}' is a value, not a section", o.path.join("."))))?;
    }
    current.insert(last.clone(), o.value.clone());
    Ok(())
}

/// Checks that serde cannot express: ranges and cross-field rules.
fn validate(c: &ExperimentConfig) -> Result<(), String> {
    let positive = [
        ("data.batch_size", c.data.batch_size),
        ("train.epochs", c.train.epochs),
        ("train.devices", c.train.devices.count()),
        ("ddp.tree_arity", c.ddp.tree_arity as usize),
        ("train.checkpoint_every", c.train.checkpoint_every),
        ("train.log_every", c.train.log_every),
    ];
    if let Some((key, _)) = positive.iter().find(|(_, v)| *v == 0) {
        return Err(format!("{key} must be at least 1"));
    }
    if !(c.optim.lr > 0.0 && c.optim.lr.is_finite()) {
        return Err(format!("optim.lr must be a positive number, got {}", c.optim.lr));
    }
    if !(0.0..1.0).contains(&c.data.valid_fraction) {
        return Err(format!("data.valid_fraction must be in [0, 1), got {}", c.data.valid_fraction));
    }
    check_strategy(c)?;
    crate::backend::check_device_kind(&c.train.backend, c.train.device).map_err(|e| format!("train.device: {e}"))?;
    if !(c.ddp.timeout_seconds > 0.0 && c.ddp.timeout_seconds.is_finite()) {
        return Err(format!("ddp.timeout_seconds must be a positive number, got {}", c.ddp.timeout_seconds));
    }
    if c.data.eval_sizes.contains(&0) {
        return Err(format!("data.eval_sizes must be positive sizes, got {:?}", c.data.eval_sizes));
    }
    if let Some(main) = &c.reproduce {
        let claims = std::iter::once(("reproduce".to_string(), main))
            .chain(main.also.iter().map(|(name, r)| (format!("reproduce.also.{name}"), r)));
        for (at, r) in claims {
            if !(r.tolerance >= 0.0 && r.tolerance.is_finite()) {
                return Err(format!("{at}.tolerance must be a non-negative number, got {}", r.tolerance));
            }
            if !r.paper.is_finite() || r.expected.is_some_and(|e| !e.is_finite()) {
                return Err(format!("{at}.paper and {at}.expected must be finite numbers"));
            }
            if at != "reproduce" && !r.also.is_empty() {
                return Err(format!(
                    "{at} is a claim of its own; list every claim under [reproduce.also], not inside another"
                ));
            }
        }
    }
    if c.sampling.is_some() && c.task.name != "diffusion" {
        return Err(format!("[sampling] is read by the diffusion task only; this is a {} experiment", c.task.name));
    }
    if c.detection.is_some() && c.task.name != "detection" {
        return Err(format!("[detection] is read by the detection task only; this is a {} experiment", c.task.name));
    }
    if c.data.limit == Some(0) {
        return Err("data.limit must be at least 1 (leave it out to use every example)".into());
    }
    if c.experiment.name.is_empty() || c.experiment.name.contains(['/', '\\']) {
        return Err(format!("experiment.name '{}' must be non-empty and contain no path separator", c.experiment.name));
    }
    Ok(())
}

/// Several devices need the DDP strategy (also checked for configs built in code).
pub fn check_strategy(c: &ExperimentConfig) -> Result<(), String> {
    if c.train.strategy == super::Strategy::Single && c.train.devices.count() > 1 {
        return Err(
            "train.devices > 1 needs strategy = \"ddp\" in [train] (strategy = \"single\" trains on one device)".into(),
        );
    }
    Ok(())
}

/// Long or common names people write for kiln's keys.
const ALIASES: &[(&str, &str)] = &[
    ("learning_rate", "lr"),
    ("learningrate", "lr"),
    ("wd", "weight_decay"),
    ("optimizer", "name"),
    ("num_epochs", "epochs"),
    ("max_epochs", "epochs"),
    ("batchsize", "batch_size"),
    ("workers", "num_workers"),
    ("clip_grad_norm", "grad_clip"),
    ("gradient_clip_val", "grad_clip"),
];

/// `[ddp]` keys of the burn-collective multi-node path that MPI's launchers replaced.
const REMOVED_DDP_KEYS: [&str; 5] = ["nodes", "node_rank", "orchestrator", "node_address", "global_all_reduce"];

/// Turns a toml/serde error into a message with line, section and suggestion.
fn locate(error: toml::de::Error, text: &str, file: &str) -> ConfigError {
    let offset = error.span().map(|s| s.start);
    let line = offset.map(|o| text[..o.min(text.len())].matches('\n').count() + 1);
    let section = offset.and_then(|o| section_at(text, o));
    let (message, _) = describe(error.message(), section.as_deref());
    ConfigError { file: file.to_string(), line, message }
}

/// Rewrites serde's wording ("unknown field `x`, expected one of …") into kiln's.
fn describe(message: &str, section: Option<&str>) -> (String, Option<String>) {
    let ticked = backticked(message);
    let place = section.map(|s| format!(" in [{s}]")).unwrap_or_default();
    let suggest = |word: &str, choices: &[String]| {
        let aliases = ALIASES.iter().filter(|(_, to)| choices.iter().any(|c| c == to));
        let direct = choices.iter().map(|c| (c.as_str(), c.as_str()));
        let pool: Vec<(&str, &str)> = direct.chain(aliases.map(|(from, to)| (*from, *to))).collect();
        closest(word, pool.iter().map(|(from, _)| *from))
            .and_then(|hit| pool.iter().find(|(from, _)| *from == hit).map(|(_, to)| to.to_string()))
    };
    let hint = |s: Option<String>| s.map(|s| format!("; did you mean '{s}'?")).unwrap_or_default();
    if message.starts_with("unknown field") {
        if let Some((word, choices)) = ticked.split_first() {
            if section.as_deref() == Some("ddp") && REMOVED_DDP_KEYS.contains(&word.as_str()) {
                return (format!("'{word}'{place} is gone: the processes of a run now come from a launcher, e.g. `mpirun -np 2 kiln run X.toml` (README, multi-node DDP)"), None);
            }
            let s = suggest(word, choices);
            return (format!("unknown key '{word}'{place}{}", hint(s.clone())), s);
        }
    }
    if message.starts_with("unknown variant") {
        if let Some((word, choices)) = ticked.split_first() {
            let s = suggest(word, choices);
            let options = choices.join(", ");
            return (format!("unknown value '{word}'{place} (expected one of: {options}){}", hint(s.clone())), s);
        }
    }
    if message.starts_with("missing field") {
        if let Some(word) = ticked.first() {
            return (format!("missing key '{word}'{place}"), None);
        }
    }
    (format!("{}{place}", message.trim()), None)
}

fn backticked(message: &str) -> Vec<String> {
    message.split('`').skip(1).step_by(2).map(str::to_string).collect()
}

/// The `[section]` header in force at byte `offset`.
fn section_at(text: &str, offset: usize) -> Option<String> {
    text[..offset.min(text.len())].lines().rev().find_map(|line| {
        let line = line.trim();
        (line.starts_with('[') && !line.starts_with("[[")).then(|| line.trim_matches(['[', ']']).trim().to_string())
    })
}

/// The 1-based line where `key` is set inside `[section]`, if it is written there.
fn line_of_key(text: &str, section: &str, key: &str) -> Option<usize> {
    let mut inside = false;
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.starts_with('[') {
            inside = line.trim_matches(['[', ']']).trim() == section;
        } else if inside && line.split('=').next().is_some_and(|k| k.trim() == key) {
            return Some(i + 1);
        }
    }
    None
}
