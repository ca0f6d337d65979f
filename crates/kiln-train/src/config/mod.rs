//! Experiment configs: the TOML schema, loading with precise errors, and `--set` overrides.

mod diff;
mod load;
mod overlay;
mod schema;
mod suggest;

pub use diff::{differing_keys, run_config_changes};
pub use load::{check_strategy, load_experiment, parse_experiment, parse_override, Override};
pub use overlay::{overlay_config, ParamProblem};
pub use schema::*;
pub use suggest::closest;
