//! Noise schedules of the discrete-time VP process: β_t and ᾱ_t = Π(1 − β_s).

mod beta;
mod discrete;

pub use beta::BetaSchedule;
pub use discrete::DiscreteSchedule;
