//! The Fréchet distance against closed forms worked by hand.

use kiln_metrics::GaussianFit;

/// The Gaussian fitted to 2-D points.
fn fit_of(rows: &[[f64; 2]]) -> GaussianFit {
    let flat: Vec<f64> = rows.iter().flatten().copied().collect();
    GaussianFit::new(&flat, 2)
}

#[test]
fn a_fit_is_at_distance_zero_from_itself() {
    let a = fit_of(&[[0.0, 1.0], [2.0, -1.0], [1.0, 3.0], [-2.0, 0.5]]);
    assert!(a.frechet_distance(&a).abs() < 1e-9);
}

#[test]
fn diagonal_covariances_give_the_sum_of_squared_differences_of_the_deviations() {
    // {(±1, 0), (0, ±2)} around (0, 0): variances 2/3 and 8/3 (n − 1 = 3), no covariance.
    let a = fit_of(&[[1.0, 0.0], [-1.0, 0.0], [0.0, 2.0], [0.0, -2.0]]);
    // {(5 ± 3, 1), (5, 1 ± 1)}: mean (5, 1), variances 6 and 2/3.
    let b = fit_of(&[[8.0, 1.0], [2.0, 1.0], [5.0, 2.0], [5.0, 0.0]]);
    let expected = 25.0
        + 1.0
        + ((2.0f64 / 3.0).sqrt() - 6f64.sqrt()).powi(2)
        + ((8.0f64 / 3.0).sqrt() - (2.0f64 / 3.0).sqrt()).powi(2);
    assert!((a.frechet_distance(&b) - expected).abs() < 1e-9, "{}", a.frechet_distance(&b));
}

#[test]
fn a_correlated_covariance_against_the_identity_uses_its_eigenvalues() {
    // Σ₁ = I (points ±√(3/2) on each axis, n = 4), Σ₂ = [[2, 1], [1, 2]] (eigenvalues 3 and 1):
    // tr(Σ₁ + Σ₂) − 2 tr(Σ₂^½) = 2 + 4 − 2(√3 + 1) = 4 − 2√3.
    let s = 1.5f64.sqrt();
    let a = fit_of(&[[s, 0.0], [-s, 0.0], [0.0, s], [0.0, -s]]);
    // ±√(3/2)·(1, 1)/√2·√3 along the first eigenvector (variance 3) and ±√(3/2)·(1, −1)/√2 along
    // the second (variance 1).
    let (u, v) = ((4.5f64).sqrt() / 2f64.sqrt(), s / 2f64.sqrt());
    let b = fit_of(&[[u, u], [-u, -u], [v, -v], [-v, v]]);
    assert!((b.covariance[(0, 0)] - 2.0).abs() < 1e-12 && (b.covariance[(0, 1)] - 1.0).abs() < 1e-12);
    let expected = 4.0 - 2.0 * 3f64.sqrt();
    assert!((a.frechet_distance(&b) - expected).abs() < 1e-9, "{}", a.frechet_distance(&b));
}

#[test]
fn the_distance_is_symmetric_for_non_commuting_covariances() {
    let a = fit_of(&[[0.0, 1.0], [2.0, -1.0], [1.0, 3.0], [-2.0, 0.5], [0.3, 0.3]]);
    let b = fit_of(&[[1.0, 0.0], [-3.0, 1.0], [0.5, -2.0], [2.0, 2.5], [0.0, -0.7]]);
    assert!((a.frechet_distance(&b) - b.frechet_distance(&a)).abs() < 1e-9);
}
