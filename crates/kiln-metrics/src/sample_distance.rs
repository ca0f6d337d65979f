//! Distances between two sets of samples, for scoring a generative model's draws against
//! held-out data: the kernel maximum mean discrepancy and the sliced Wasserstein distance.
//! Points are rows of `dim` values.

/// The unbiased MMD² of Gretton et al. 2012 (eq. 3) with the Gaussian kernel
/// `k(a, b) = exp(−‖a − b‖²/(2h²))`: the mean kernel within `x` and within `y` (off the
/// diagonal) less twice the mean across. Zero in expectation when both come from one
/// distribution; it can dip slightly below zero.
///
/// ```
/// // x = {0, 1}, y = {0, 2}, h = 1: e^{−1/2} + e^{−2} − 2·(1 + e^{−2} + 2e^{−1/2})/4.
/// let mmd = kiln_metrics::sample_distance::mmd_rbf(&[0.0, 1.0], &[0.0, 2.0], 1, 1.0);
/// assert!((mmd - -0.432333).abs() < 1e-6);
/// ```
pub fn mmd_rbf(x: &[f64], y: &[f64], dim: usize, bandwidth: f64) -> f64 {
    let (n, m) = (x.len() / dim, y.len() / dim);
    assert!(n >= 2 && m >= 2, "the unbiased MMD needs two points on each side");
    let gamma = 1.0 / (2.0 * bandwidth * bandwidth);
    let kernel = |a: &[f64], b: &[f64]| (-gamma * a.iter().zip(b).map(|(p, q)| (p - q) * (p - q)).sum::<f64>()).exp();
    let within = |s: &[f64], count: usize| {
        let mut total = 0.0;
        for i in 0..count {
            for j in i + 1..count {
                total += kernel(&s[i * dim..(i + 1) * dim], &s[j * dim..(j + 1) * dim]);
            }
        }
        2.0 * total / (count * (count - 1)) as f64
    };
    let mut across = 0.0;
    for i in 0..n {
        for j in 0..m {
            across += kernel(&x[i * dim..(i + 1) * dim], &y[j * dim..(j + 1) * dim]);
        }
    }
    within(x, n) + within(y, m) - 2.0 * across / (n * m) as f64
}

/// The median distance between the points of `y` (the "median heuristic" bandwidth, Gretton et
/// al. 2012, §8), from at most its first 1,000 points.
pub fn median_distance(y: &[f64], dim: usize) -> f64 {
    let m = (y.len() / dim).min(1000);
    let mut distances = Vec::with_capacity(m * (m - 1) / 2);
    for i in 0..m {
        for j in i + 1..m {
            let d: f64 = (0..dim).map(|k| (y[i * dim + k] - y[j * dim + k]).powi(2)).sum();
            distances.push(d.sqrt());
        }
    }
    distances.sort_by(f64::total_cmp);
    distances.get(distances.len() / 2).copied().unwrap_or(1.0)
}

/// The sliced 2-Wasserstein distance `SW₂ = (E_θ W₂²(θ·x, θ·y))^{1/2}` (Rabin et al. 2011;
/// Bonneel et al. 2015) over `projections` directions: evenly spaced half-circle angles in 2-D,
/// Gaussian directions from `seed` above it. Each 1-D W₂ compares the sorted projections at
/// matching quantiles, so the sets may differ in size.
///
/// ```
/// // Shifting a set by c moves every projection by θ·c: SW₂ = ‖c‖/√2 in the plane.
/// let x = [0.0, 0.0, 1.0, 2.0, -1.0, 0.5];
/// let y: Vec<f64> = x.chunks(2).flat_map(|p| [p[0] + 3.0, p[1] + 4.0]).collect();
/// let sw = kiln_metrics::sample_distance::sliced_wasserstein(&x, &y, 2, 16, 0);
/// assert!((sw - 5.0 / 2f64.sqrt()).abs() < 1e-9);
/// ```
pub fn sliced_wasserstein(x: &[f64], y: &[f64], dim: usize, projections: usize, seed: u64) -> f64 {
    let directions = directions(dim, projections, seed);
    let project = |s: &[f64], d: &[f64]| {
        let mut p: Vec<f64> = s.chunks(dim).map(|row| row.iter().zip(d).map(|(a, b)| a * b).sum()).collect();
        p.sort_by(f64::total_cmp);
        p
    };
    let quantile = |sorted: &[f64], q: f64| sorted[((q * sorted.len() as f64) as usize).min(sorted.len() - 1)];
    let total: f64 = directions
        .iter()
        .map(|d| {
            let (px, py) = (project(x, d), project(y, d));
            let k = px.len().max(py.len());
            (0..k)
                .map(|i| {
                    let q = (i as f64 + 0.5) / k as f64;
                    (quantile(&px, q) - quantile(&py, q)).powi(2)
                })
                .sum::<f64>()
                / k as f64
        })
        .sum();
    (total / directions.len() as f64).sqrt()
}

fn directions(dim: usize, count: usize, seed: u64) -> Vec<Vec<f64>> {
    if dim == 2 {
        return (0..count)
            .map(|k| {
                let angle = std::f64::consts::PI * k as f64 / count as f64;
                vec![angle.cos(), angle.sin()]
            })
            .collect();
    }
    // A small xorshift with Box–Muller: the directions need only be spread, not of any quality
    // a dependency would add.
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut uniform = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        ((state >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    };
    (0..count)
        .map(|_| {
            let v: Vec<f64> = (0..dim)
                .map(|_| (-2.0 * uniform().ln()).sqrt() * (2.0 * std::f64::consts::PI * uniform()).cos())
                .collect();
            let norm = v.iter().map(|a| a * a).sum::<f64>().sqrt();
            v.into_iter().map(|a| a / norm).collect()
        })
        .collect()
}
