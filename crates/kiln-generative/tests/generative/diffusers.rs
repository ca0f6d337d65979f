//! Numbers printed by diffusers 0.42.1 in float64 (`tests/reference/diffusers_reference.py`, its
//! output beside it): another implementation's schedules, steps and coefficients.

use super::*;
use kiln_generative::sampler::{Ddim, Ddpm, DdpmVariance, Edm, OdeSolver, Sampler, ScoreSde, SdeProcess, SdeSolver};
use kiln_generative::schedule::BetaSchedule;
use kiln_generative::{NoiseLevel, Prediction};

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * b.abs().max(1e-300)
}

#[test]
fn linear_alpha_bar_matches_diffusers() {
    let s = BetaSchedule::linear().discretize(1000);
    let expected = [
        (0, 0.99990000000000001),
        (1, 0.99978009207207208),
        (499, 0.078587242881778235),
        (999, 4.0358297653756754e-05),
    ];
    for (t, v) in expected {
        assert!(close(s.alphas_cumprod[t], v, 1e-12), "t = {t}: {} vs {v}", s.alphas_cumprod[t]);
    }
}

#[test]
fn cosine_alpha_bar_matches_diffusers_with_beta_clipped_at_0_999() {
    let s = BetaSchedule::cosine().discretize(1000);
    let expected = [
        (0, 0.99995871577517803),
        (1, 0.99991257592736782),
        (499, 0.49384359044063819),
        (998, 2.4287669070348544e-06),
        (999, 2.4287669070348567e-09),
    ];
    for (t, v) in expected {
        assert!(close(s.alphas_cumprod[t], v, 1e-10), "t = {t}: {} vs {v}", s.alphas_cumprod[t]);
    }
    assert_eq!(s.betas[999], 0.999);
}

fn pair(values: [f32; 2]) -> Tensor<B, 2> {
    Tensor::from_floats([values], &Default::default())
}

fn read(t: Tensor<B, 2>) -> Vec<f64> {
    t.into_data().convert::<f64>().to_vec().unwrap()
}

#[test]
fn ddpm_step_at_500_matches_diffusers_posterior() {
    let schedule = BetaSchedule::linear().discretize(1000);
    let (x, eps) = (pair([0.5, -1.2]), pair([0.1, 0.3]));
    let mut ddpm = Ddpm::new(schedule.clone(), DdpmVariance::FixedSmall);
    let i = 999 - 500;
    let level = <Ddpm as Sampler<B, 2>>::level(&ddpm, i);
    let prediction = Prediction::from_epsilon(eps, x.clone(), level);
    let x0 = read(prediction.sample());
    assert!(close(x0[0], 1.448328635685143, 1e-5) && close(x0[1], -5.3351909664082875, 1e-5), "{x0:?}");
    let mean = read(ddpm.step(&prediction, i, x.clone(), x.zeros_like()));
    assert!(close(mean[0], 0.50148124701055685, 1e-6) && close(mean[1], -1.2092405393927312, 1e-6), "{mean:?}");
    assert!(close(ddpm.posterior(i).2, 0.010051335778909641, 1e-10));
    assert!(close(ddpm.posterior(999 - 1).2, 5.4531876613006675e-05, 1e-9));
    let large = Ddpm::new(schedule, DdpmVariance::FixedLarge);
    assert!(close(large.posterior(i).2, 0.010059959959960008, 1e-10));
    assert!(close(large.posterior(999 - 1).2, 0.00011991991991988638, 1e-9));
}

#[test]
fn fifty_step_grids_and_respaced_variance_match_diffusers() {
    let schedule = BetaSchedule::linear().discretize(1000);
    let mut ddpm = Ddpm::new(schedule.clone(), DdpmVariance::FixedSmall);
    <Ddpm as Sampler<B, 2>>::set_timesteps(&mut ddpm, 50);
    let expected: Vec<usize> = (0..50).rev().map(|i| i * 20).collect();
    assert_eq!(ddpm.timesteps(), expected.as_slice());
    // t = 960 steps to 940 with β' = 1 − ᾱ_960/ᾱ_940.
    assert!(close(ddpm.posterior(1).2, 0.31909204233947142, 1e-10));
    let mut ddim = Ddim::new(schedule, 0.0);
    <Ddim as Sampler<B, 2>>::set_timesteps(&mut ddim, 50);
    assert_eq!(ddim.timesteps(), expected.as_slice());
}

#[test]
fn ddim_steps_match_diffusers() {
    let schedule = BetaSchedule::linear().discretize(1000);
    let (x, eps) = (pair([0.5, -1.2]), pair([0.1, 0.3]));
    for (eta, expected) in
        [(0.0, [0.58672473050102825, -1.5252229963612474]), (1.0, [0.56890618753678857, -1.5786786252539666])]
    {
        let mut ddim = Ddim::new(schedule.clone(), eta);
        <Ddim as Sampler<B, 2>>::set_timesteps(&mut ddim, 50);
        let level = <Ddim as Sampler<B, 2>>::level(&ddim, 0);
        let prediction = Prediction::from_epsilon(eps.clone(), x.clone(), level);
        let next = read(ddim.step(&prediction, 0, x.clone(), x.zeros_like()));
        assert!(close(next[0], expected[0], 1e-5) && close(next[1], expected[1], 1e-5), "eta {eta}: {next:?}");
    }
    let mut ddim = Ddim::new(schedule.clone(), 1.0);
    <Ddim as Sampler<B, 2>>::set_timesteps(&mut ddim, 50);
    assert!(close(ddim.coefficients(0).2, 0.56974137630593957, 1e-10));
    // The last step ends at ᾱ = 1: with η = 0 it returns x̂₀ itself.
    let last = 49;
    let level = <Ddim as Sampler<B, 2>>::level(&ddim, last);
    let prediction = Prediction::from_epsilon(eps, x.clone(), level);
    let mut ddim0 = Ddim::new(schedule, 0.0);
    <Ddim as Sampler<B, 2>>::set_timesteps(&mut ddim0, 50);
    let out = read(ddim0.step(&prediction, last, x.clone(), x.zeros_like()));
    let x0 = read(prediction.sample());
    assert!(out.iter().zip(&x0).all(|(a, b)| (a - b).abs() < 1e-6));
    assert!(close(out[0], 0.499024951871406, 1e-5));
}

#[test]
fn karras_sigmas_match_diffusers() {
    let mut edm = Edm::<B, 2>::new(OdeSolver::Heun);
    edm.set_timesteps(5);
    let expected = [80.0, 17.527831964644111, 2.5152189761471591, 0.16975275626876413, 0.0020000000000000031, 0.0];
    for (s, e) in edm.sigmas().iter().zip(expected) {
        assert!((s - e).abs() <= 1e-12 * e.max(1.0), "{s} vs {e}");
    }
    // Heun: two evaluations per step but one on the last (σ_N = 0): 2·5 − 1.
    assert_eq!(edm.evaluations(), 9);
}

#[test]
fn edm_preconditioning_at_sigma_10_matches_diffusers() {
    use kiln_generative::{Parameterization, Preconditioning};
    let p = Preconditioning::new(Parameterization::Edm, 0.5);
    let level = NoiseLevel::exploding(10.0);
    let (c_skip, c_out) = p.readout(level);
    assert!(close(p.c_in(level), 0.099875233887784465, 1e-12));
    assert!(close(p.c_noise(level), 0.57564627324851148, 1e-12));
    assert!(close(c_skip, 0.0024937655860349127, 1e-12));
    assert!(close(c_out, 0.49937616943892227, 1e-12));
}

#[test]
fn ve_sigmas_match_diffusers_score_sde_ve() {
    let process = SdeProcess::Ve { sigma_min: 0.01, sigma_max: 1348.0 };
    let mut sde = ScoreSde::<B, 2>::new(process, SdeSolver::EulerMaruyama);
    sde.set_timesteps(9);
    let expected = [
        1348.0,
        362.8524403658551,
        97.672027803751178,
        26.291197065335872,
        7.0770215247008466,
        1.9049811059045894,
        0.51277970558481167,
        0.13802920440766592,
        0.03715447600970255,
    ];
    for (i, e) in expected.iter().enumerate() {
        assert!(close(sde.level(i).sigma, *e, 1e-10), "{i}: {} vs {e}", sde.level(i).sigma);
    }
    assert!(close(process.level(1e-5).sigma, 0.010001181224506819, 1e-10));
}
