//! The detector `[model]` describes: a variant of a registered detector family.

use crate::config::ParamProblem;
use crate::error::{KilnError, Result};
use crate::registry::{self, ModelKind};

/// Checks `[model]` without building the network; returns its object classes.
pub fn check_model(name: &str, params: &toml::Table) -> std::result::Result<usize, ParamProblem> {
    let fields = registry::check_params(name, ModelKind::Detector, params)?;
    fields
        .get("num_classes")
        .and_then(serde_json::Value::as_u64)
        .map(|c| c as usize)
        .ok_or_else(|| ParamProblem { key: None, message: "the detector's config has no num_classes".into() })
}

/// Object classes detector `name` is configured for.
pub fn classes(name: &str, params: &toml::Table) -> Result<usize> {
    check_model(name, params).map_err(|p| KilnError::ModelParams { model: name.into(), message: p.message })
}
