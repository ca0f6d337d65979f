//! Every sampler fed the exact denoiser of Gaussian data must end at the data's mean and
//! variance; steps worked by hand.

use super::*;
use kiln_generative::analytic::GaussianData;
use kiln_generative::sampler::{
    Churn, Ddim, Ddpm, DdpmVariance, Edm, OdeSolver, RectifiedFlow, Sampler, ScoreSde, SdeProcess, SdeSolver,
};
use kiln_generative::schedule::{BetaSchedule, DiscreteSchedule};
use kiln_generative::{sample, GaussianNoise, Prediction};

const MEAN: f64 = 2.0;
const STD: f64 = 0.5;
const N: usize = 4000;

/// (mean, standard deviation, NFE) of N samples.
fn moments<S: Sampler<B, 2>>(data: GaussianData, sampler: &mut S, steps: usize) -> (f64, f64, usize) {
    sampler.set_timesteps(steps);
    let drawn =
        sample::<B, 2, _, _>(&data, sampler, [N, 1], &mut GaussianNoise::new(11), &Default::default(), |_, _| {});
    let x: Vec<f64> = drawn.x.into_data().convert::<f64>().to_vec().unwrap();
    let mean = x.iter().sum::<f64>() / x.len() as f64;
    let var = x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (x.len() - 1) as f64;
    (mean, var.sqrt(), drawn.nfe)
}

/// Within sampling error of 4,000 draws (standard error of the mean 0.008, of the std 0.006)
/// plus the discretisation's own.
fn assert_matches(name: &str, (mean, std, _): (f64, f64, usize), std_tolerance: f64) {
    assert!((mean - MEAN).abs() < 0.04, "{name}: mean {mean}");
    assert!((std - STD).abs() < std_tolerance, "{name}: std {std}");
}

fn data() -> GaussianData {
    GaussianData::new(MEAN, STD)
}

#[test]
fn ddpm_ends_at_the_data_distribution() {
    let schedule = BetaSchedule::linear().discretize(1000);
    let m = moments(data(), &mut Ddpm::new(schedule.clone(), DdpmVariance::FixedSmall), 1000);
    assert_eq!(m.2, 1000);
    assert_matches("ddpm small", m, 0.03);
    let m = moments(data(), &mut Ddpm::new(BetaSchedule::cosine().discretize(1000), DdpmVariance::FixedSmall), 1000);
    assert_matches("ddpm cosine", m, 0.03);
}

#[test]
fn ddim_ends_at_the_data_distribution_for_every_eta() {
    for eta in [0.0, 0.5, 1.0] {
        let m = moments(data(), &mut Ddim::new(BetaSchedule::linear().discretize(1000), eta), 250);
        assert_eq!(m.2, 250);
        assert_matches(&format!("ddim eta {eta}"), m, 0.03);
    }
}

#[test]
fn deterministic_ddims_error_shrinks_with_its_steps() {
    // The same starting noise each time: what changes is the ODE's discretisation alone.
    let error =
        |steps| (moments(data(), &mut Ddim::new(BetaSchedule::linear().discretize(1000), 0.0), steps).1 - STD).abs();
    let (e10, e50, e250) = (error(10), error(50), error(250));
    assert!(e10 > e50 && e50 > e250, "{e10} {e50} {e250}");
}

#[test]
fn score_sde_solvers_end_at_the_data_distribution() {
    // σ_max well above the data's scale, so the prior N(0, σ_max²) misses the mean 2 by little
    // (the ODE carries the miss through as 2·s/σ_max).
    let ve = SdeProcess::Ve { sigma_min: 0.01, sigma_max: 100.0 };
    for (name, process, solver, steps) in [
        ("vp em", SdeProcess::vp(), SdeSolver::EulerMaruyama, 1000),
        ("vp pc", SdeProcess::vp(), SdeSolver::PredictorCorrector { snr: 0.16 }, 500),
        ("vp ode euler", SdeProcess::vp(), SdeSolver::Ode(OdeSolver::Euler), 500),
        ("vp ode heun", SdeProcess::vp(), SdeSolver::Ode(OdeSolver::Heun), 50),
        ("ve em", ve, SdeSolver::EulerMaruyama, 1000),
        ("ve pc", ve, SdeSolver::PredictorCorrector { snr: 0.16 }, 500),
        ("ve ode heun", ve, SdeSolver::Ode(OdeSolver::Heun), 100),
    ] {
        let mut sampler = ScoreSde::<B, 2>::new(process, solver);
        let m = moments(data(), &mut sampler, steps);
        assert_matches(name, m, 0.03);
    }
}

#[test]
fn edm_heun_with_and_without_churn_ends_at_the_data_distribution() {
    let m = moments(data(), &mut Edm::<B, 2>::new(OdeSolver::Heun), 18);
    assert_eq!(m.2, 35, "Karras et al.'s 18 steps are 35 NFE");
    assert_matches("edm heun", m, 0.02);
    let churn = Churn { churn: 40.0, t_min: 0.05, t_max: 50.0, noise: 1.0 };
    let m = moments(data(), &mut Edm::<B, 2>::new(OdeSolver::Heun).with_churn(churn), 40);
    assert_matches("edm churn", m, 0.03);
}

#[test]
fn rectified_flow_ode_ends_at_the_data_distribution() {
    let m = moments(data(), &mut RectifiedFlow::<B, 2>::new(OdeSolver::Euler), 200);
    assert_matches("rf euler", m, 0.02);
    let m = moments(data(), &mut RectifiedFlow::<B, 2>::new(OdeSolver::Heun), 20);
    assert_eq!(m.2, 39);
    assert_matches("rf heun", m, 0.02);
}

#[test]
fn heun_beats_euler_at_equal_nfe_on_the_exact_ode() {
    // The deterministic samplers' error in the standard deviation at ~35 NFE.
    let euler = moments(data(), &mut Edm::<B, 2>::new(OdeSolver::Euler), 35).1;
    let heun = moments(data(), &mut Edm::<B, 2>::new(OdeSolver::Heun), 18).1;
    assert!((heun - STD).abs() < (euler - STD).abs(), "heun {heun}, euler {euler}");
}

#[test]
fn a_point_mass_flows_in_a_straight_line() {
    // Data all at 3: the velocity ε − x₀ never changes along a path, so S = 0; with spread-out
    // data the independent coupling's paths curve, so S > 0 (Liu et al. 2022, §2.2).
    let device = Default::default();
    let run = |data: GaussianData| {
        let mut rf = RectifiedFlow::<B, 2>::new(OdeSolver::Euler);
        rf.set_timesteps(20);
        let drawn = sample::<B, 2, _, _>(&data, &mut rf, [500, 2], &mut GaussianNoise::new(3), &device, |_, _| {});
        rf.straightness(drawn.x).unwrap()
    };
    assert!(run(GaussianData::new(3.0, 1e-9)) < 1e-8);
    assert!(run(GaussianData::new(0.0, 1.0)) > 0.05);
}

#[test]
fn ddpm_step_worked_by_hand() {
    // β = (0.1, 0.2): ᾱ = (0.9, 0.72). From t = 1: β_1 = 0.2, coefficient of x̂₀
    // √0.9·0.2/0.28 = 0.677631, of x_t √0.8·0.1/0.28 = 0.319438, σ² = 0.1/0.28·0.2 = 0.0714286.
    let schedule = DiscreteSchedule::from_betas(vec![0.1, 0.2]);
    let mut ddpm = Ddpm::new(schedule, DdpmVariance::FixedSmall);
    let (c_x0, c_xt, var) = ddpm.posterior(0);
    assert!((c_x0 - 0.677631).abs() < 1e-6 && (c_xt - 0.319438).abs() < 1e-6 && (var - 0.0714286).abs() < 1e-7);
    let device = Default::default();
    let x = Tensor::<B, 2>::from_floats([[1.0]], &device);
    let level = <Ddpm as Sampler<B, 2>>::level(&ddpm, 0);
    let out = Prediction::new(Tensor::from_floats([[2.0]], &device), level);
    let z = Tensor::<B, 2>::from_floats([[-1.5]], &device);
    // 0.677631·2 + 0.319438·1 − 1.5·√0.0714286 = 1.674700 − 0.400892 = 1.273808
    let next: f32 = ddpm.step(&out, 0, x, z).into_scalar();
    assert!((next - 1.273808).abs() < 1e-5, "{next}");
}

#[test]
fn ddim_with_eta_one_has_ddpms_posterior_variance() {
    let schedule = BetaSchedule::linear().discretize(1000);
    for steps in [1000, 50, 10] {
        let (mut ddim, mut ddpm) =
            (Ddim::new(schedule.clone(), 1.0), Ddpm::new(schedule.clone(), DdpmVariance::FixedSmall));
        <Ddim as Sampler<B, 2>>::set_timesteps(&mut ddim, steps);
        <Ddpm as Sampler<B, 2>>::set_timesteps(&mut ddpm, steps);
        for i in 0..steps - 1 {
            let sigma = ddim.coefficients(i).2;
            let variance = ddpm.posterior(i).2;
            assert!((sigma * sigma - variance).abs() < 1e-12 * variance.max(1e-6), "{steps} steps, i = {i}");
        }
    }
}
