//! Learning-rate schedules, stepped once per optimizer step, built from Burn's schedulers.

use burn::lr_scheduler::constant::ConstantLr;
use burn::lr_scheduler::cosine::{CosineAnnealingLrScheduler, CosineAnnealingLrSchedulerConfig};
use burn::lr_scheduler::linear::{LinearLrScheduler, LinearLrSchedulerConfig};
use burn::lr_scheduler::step::{StepLrScheduler, StepLrSchedulerConfig};
use burn::lr_scheduler::LrScheduler;

use crate::config::{ScheduleName, ScheduleSection};

/// The schedule an experiment names.
#[derive(Clone)]
pub enum LrSchedule {
    Constant(ConstantLr),
    Cosine(CosineAnnealingLrScheduler),
    /// Linear ramp over the warm-up steps, then the base rate.
    LinearWarmup {
        ramp: LinearLrScheduler,
        ramp_steps: usize,
        base: f64,
        taken: usize,
    },
    /// Linear ramp over the warm-up steps, then cosine annealing to `min_lr` over the rest
    /// (timm's `CosineLRScheduler` with `warmup_t`): the usual recipe for transformers, whose
    /// adaptive optimizer statistics are unreliable in the first steps.
    WarmupCosine {
        ramp: LinearLrScheduler,
        ramp_steps: usize,
        cosine: CosineAnnealingLrScheduler,
        taken: usize,
    },
    Step(StepLrScheduler),
}

impl LrSchedule {
    pub fn new(c: &ScheduleSection, lr: f64, steps_per_epoch: usize, epochs: usize) -> Result<Self, String> {
        let total = (steps_per_epoch * epochs).max(1);
        Ok(match c.name {
            ScheduleName::Constant => LrSchedule::Constant(ConstantLr::from(lr)),
            ScheduleName::Cosine => {
                LrSchedule::Cosine(CosineAnnealingLrSchedulerConfig::new(lr, total).with_min_lr(c.min_lr).init()?)
            }
            ScheduleName::LinearWarmup => {
                let ramp_steps = (c.warmup_epochs * steps_per_epoch).max(1);
                LrSchedule::LinearWarmup {
                    ramp: LinearLrSchedulerConfig::new(lr * c.warmup_start_factor, lr, ramp_steps).init()?,
                    ramp_steps,
                    base: lr,
                    taken: 0,
                }
            }
            ScheduleName::WarmupCosine => {
                let ramp_steps = (c.warmup_epochs * steps_per_epoch).max(1);
                if ramp_steps >= total {
                    return Err(format!(
                        "warmup_epochs = {} leaves no steps for the cosine part of a {epochs}-epoch run",
                        c.warmup_epochs
                    ));
                }
                LrSchedule::WarmupCosine {
                    ramp: LinearLrSchedulerConfig::new(lr * c.warmup_start_factor, lr, ramp_steps).init()?,
                    ramp_steps,
                    cosine: CosineAnnealingLrSchedulerConfig::new(lr, total - ramp_steps)
                        .with_min_lr(c.min_lr)
                        .init()?,
                    taken: 0,
                }
            }
            ScheduleName::Step => LrSchedule::Step(
                StepLrSchedulerConfig::new(lr, (c.step_epochs * steps_per_epoch).max(1)).with_gamma(c.gamma).init()?,
            ),
        })
    }

    /// The learning rate for the next optimizer step.
    pub fn step(&mut self) -> f64 {
        match self {
            LrSchedule::Constant(s) => LrScheduler::step(s),
            LrSchedule::Cosine(s) => s.step(),
            LrSchedule::LinearWarmup { ramp, ramp_steps, base, taken } => {
                *taken += 1;
                if *taken <= *ramp_steps {
                    ramp.step()
                } else {
                    *base
                }
            }
            LrSchedule::WarmupCosine { ramp, ramp_steps, cosine, taken } => {
                *taken += 1;
                if *taken <= *ramp_steps {
                    ramp.step()
                } else {
                    cosine.step()
                }
            }
            LrSchedule::Step(s) => s.step(),
        }
    }

    /// Advances past `steps` already-taken steps (resuming a run).
    pub fn skip(&mut self, steps: usize) {
        for _ in 0..steps {
            self.step();
        }
    }
}
