//! `[loss]` of a diffusion experiment: the process a denoiser is trained under and what its
//! network predicts.

use kiln_generative::objective::{default_parameterization, Process};
use kiln_generative::schedule::BetaSchedule;
use kiln_generative::{Parameterization, Preconditioning};
use serde::{Deserialize, Serialize};

use super::reflow::ReflowSettings;
use crate::config::{closest, overlay_config, LossSection, ParamProblem};

/// `[loss] name`s and what each trains.
pub const OBJECTIVES: [(&str, &str); 4] = [
    ("ddpm", "DDPM's discrete VP chain (Ho et al. 2020): schedule linear|cosine, steps, prediction epsilon|v|sample"),
    ("edm", "EDM (Karras et al. 2022): ln σ ~ N(p_mean, p_std²), preconditioned, sigma_data"),
    ("ve", "the VE SDE's denoising score matching (Song et al. 2021): sigma_min, sigma_max"),
    ("flow_matching", "rectified flow / flow matching (Liu et al. 2022; Lipman et al. 2023): straight paths, velocity; reflow = \"<run>\" trains on that flow's couplings (reflow_steps, reflow_pairs)"),
];

/// The keys every objective may take; each reads its own and refuses the others'.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ObjectiveParams {
    schedule: String,
    steps: usize,
    prediction: Option<Parameterization>,
    sigma_data: f64,
    p_mean: f64,
    p_std: f64,
    sigma_min: f64,
    sigma_max: f64,
    /// Classifier-free guidance's condition dropout: the share of training examples whose class
    /// is replaced by "no class" (class-conditional models).
    cond_dropout: f64,
    /// Reflow: the trained rectified-flow run whose couplings are the training data.
    reflow: Option<String>,
    reflow_steps: usize,
    reflow_pairs: usize,
}

impl Default for ObjectiveParams {
    fn default() -> Self {
        Self {
            schedule: "linear".into(),
            steps: 1000,
            prediction: None,
            sigma_data: 1.0,
            p_mean: -1.2,
            p_std: 1.2,
            sigma_min: 0.01,
            sigma_max: 10.0,
            cond_dropout: 0.0,
            reflow: None,
            reflow_steps: 50,
            reflow_pairs: 20000,
        }
    }
}

/// What `[loss]` asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct Objective {
    pub name: String,
    pub process: Process,
    pub preconditioning: Preconditioning,
    pub cond_dropout: f64,
    pub reflow: Option<ReflowSettings>,
}

impl Objective {
    pub fn from_section(loss: &LossSection) -> Result<Self, ParamProblem> {
        let problem = |key: &str, message: String| ParamProblem { key: Some(key.into()), message };
        let Some((name, _)) = OBJECTIVES.iter().find(|(n, _)| *n == loss.name) else {
            let names: Vec<&str> = OBJECTIVES.iter().map(|(n, _)| *n).collect();
            let hint = closest(&loss.name, names.iter().copied())
                .map(|s| format!("; did you mean '{s}'?"))
                .unwrap_or_default();
            return Err(problem(
                "name",
                format!(
                    "diffusion trains on a denoising objective, not '{}' (known: {}){hint}",
                    loss.name,
                    names.join(", ")
                ),
            ));
        };
        if loss.label_smoothing != 0.0 || loss.class_weights.is_some() {
            return Err(problem(
                "label_smoothing",
                "label_smoothing and class_weights are classification settings".into(),
            ));
        }
        let p = overlay_config(ObjectiveParams::default(), &loss.params, "loss")?;
        // Each objective reads only its own keys.
        let own: &[&str] = match *name {
            "ddpm" => &["schedule", "steps", "prediction", "sigma_data", "cond_dropout"],
            "edm" => &["p_mean", "p_std", "sigma_data", "cond_dropout"],
            "ve" => &["sigma_min", "sigma_max", "sigma_data", "cond_dropout"],
            _ => &["sigma_data", "cond_dropout", "reflow", "reflow_steps", "reflow_pairs"],
        };
        if let Some(key) = loss.params.keys().find(|k| !own.contains(&k.as_str())) {
            return Err(problem(
                key,
                format!("'{key}' is not a setting of the '{name}' objective (its settings: {})", own.join(", ")),
            ));
        }
        if !(p.sigma_data > 0.0 && p.sigma_data.is_finite()) {
            return Err(problem("sigma_data", format!("sigma_data must be positive, not {}", p.sigma_data)));
        }
        if !(0.0..1.0).contains(&p.cond_dropout) {
            return Err(problem("cond_dropout", format!("cond_dropout must lie in [0, 1), not {}", p.cond_dropout)));
        }
        let process = match *name {
            "ddpm" => {
                let schedule = match p.schedule.as_str() {
                    "linear" => BetaSchedule::linear(),
                    "cosine" => BetaSchedule::cosine(),
                    other => {
                        return Err(problem("schedule", format!("unknown schedule '{other}' (known: linear, cosine)")))
                    }
                };
                if p.steps < 2 {
                    return Err(problem("steps", "a DDPM needs at least 2 steps".into()));
                }
                Process::Discrete(schedule.discretize(p.steps))
            }
            "edm" => {
                if !(p.p_std > 0.0) {
                    return Err(problem("p_std", format!("p_std must be positive, not {}", p.p_std)));
                }
                Process::LogNormal { p_mean: p.p_mean, p_std: p.p_std }
            }
            "ve" => {
                if !(p.sigma_min > 0.0 && p.sigma_max > p.sigma_min) {
                    return Err(problem(
                        "sigma_max",
                        format!("need 0 < sigma_min < sigma_max, not {} and {}", p.sigma_min, p.sigma_max),
                    ));
                }
                Process::Exploding { sigma_min: p.sigma_min, sigma_max: p.sigma_max }
            }
            _ => Process::Straight,
        };
        if p.reflow.is_none() {
            if let Some(key) = ["reflow_steps", "reflow_pairs"].into_iter().find(|k| loss.params.contains_key(*k)) {
                return Err(problem(
                    key,
                    format!("{key} sets how a reflow draws its couplings; set reflow = \"<run>\" too"),
                ));
            }
        }
        if p.reflow.is_some() && (p.reflow_steps == 0 || p.reflow_pairs < 2) {
            return Err(problem(
                "reflow_pairs",
                format!(
                    "reflow needs reflow_steps ≥ 1 and reflow_pairs ≥ 2, not {} and {}",
                    p.reflow_steps, p.reflow_pairs
                ),
            ));
        }
        let reflow = p.reflow.map(|teacher| ReflowSettings { teacher, steps: p.reflow_steps, pairs: p.reflow_pairs });
        let parameterization = p.prediction.unwrap_or_else(|| default_parameterization(&process));
        if matches!(process, Process::Discrete(_))
            && !matches!(parameterization, Parameterization::Epsilon | Parameterization::V | Parameterization::Sample)
        {
            return Err(problem("prediction", "a DDPM predicts epsilon, v or sample".into()));
        }
        Ok(Self {
            name: name.to_string(),
            process,
            preconditioning: Preconditioning::new(parameterization, p.sigma_data),
            cond_dropout: p.cond_dropout,
            reflow,
        })
    }

    /// The sampler an evaluation uses when `[sampling]` is left out: the process's own.
    pub fn default_sampler(&self) -> (&'static str, usize) {
        match self.process {
            Process::Discrete(_) => ("ddim", 50),
            Process::LogNormal { .. } => ("edm", 18),
            Process::Exploding { .. } => ("ode-heun", 50),
            Process::Straight => ("rf", 50),
        }
    }
}
