//! A config type's defaults with the user's keys of one section on top, each key checked as it
//! lands so the error names it.

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::closest;

/// A key (or the whole) of one config section that its config rejects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamProblem {
    /// The offending key, when one is to blame.
    pub key: Option<String>,
    pub message: String,
}

/// Overlays the user's keys of `[section]` on a config's defaults; a key the config lacks is an
/// error that names the config's keys.
pub fn overlay_config<C: Serialize + DeserializeOwned>(
    defaults: C,
    params: &toml::Table,
    section: &str,
) -> std::result::Result<C, ParamProblem> {
    let problem = |key: Option<&str>, message: String| ParamProblem { key: key.map(str::to_string), message };
    let mut merged = match serde_json::to_value(&defaults) {
        Ok(serde_json::Value::Object(map)) => map,
        _ => return Err(problem(None, format!("the [{section}] config does not serialise to a table"))),
    };
    for (key, value) in params {
        if !merged.contains_key(key) {
            let hint = closest(key, merged.keys().map(String::as_str))
                .map(|s| format!("; did you mean '{s}'?"))
                .unwrap_or_default();
            let keys = merged.keys().cloned().collect::<Vec<_>>().join(", ");
            return Err(problem(Some(key), format!("unknown key '{key}' in [{section}]{hint} (keys: {keys})")));
        }
        let value = serde_json::to_value(value).map_err(|e| problem(Some(key), format!("key '{key}': {e}")))?;
        let check = serde_json::from_value::<C>(serde_json::Value::Object({
            let mut one = merged.clone();
            one.insert(key.clone(), value.clone());
            one
        }));
        if let Err(e) = check {
            return Err(problem(Some(key), format!("bad value for '{key}' in [{section}]: {e}")));
        }
        merged.insert(key.clone(), value);
    }
    serde_json::from_value(serde_json::Value::Object(merged)).map_err(|e| problem(None, format!("in [{section}]: {e}")))
}
