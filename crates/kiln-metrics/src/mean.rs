/// Example-weighted running mean, e.g. of a per-batch mean loss.
///
/// ```
/// let mut loss = kiln_metrics::Mean::default();
/// loss.update(2.0, 1);
/// loss.update(5.0, 3);
/// assert_eq!(loss.value(), Some(4.25));
/// ```
#[derive(Debug, Clone, Default)]
pub struct Mean {
    sum: f64,
    weight: u64,
}

impl Mean {
    pub fn update(&mut self, value: f64, weight: u64) {
        self.sum += value * weight as f64;
        self.weight += weight;
    }

    pub fn value(&self) -> Option<f64> {
        (self.weight > 0).then(|| self.sum / self.weight as f64)
    }
}
