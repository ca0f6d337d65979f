//! Language-model metrics from the mean negative log-likelihood (in nats) per token.

/// Streams token-level negative log-likelihoods; reports perplexity exp(NLL) and bits per
/// token NLL / ln 2 (bits per character when tokens are characters).
///
/// ```
/// let mut lm = kiln_metrics::Perplexity::default();
/// // A uniform model over 4 symbols: NLL = ln 4 per token.
/// lm.update(4f64.ln() * 10.0, 10);
/// assert!((lm.perplexity().unwrap() - 4.0).abs() < 1e-12);
/// assert!((lm.bits_per_token().unwrap() - 2.0).abs() < 1e-12);
/// ```
#[derive(Debug, Clone, Default)]
pub struct Perplexity {
    nll_sum: f64,
    tokens: u64,
}

impl Perplexity {
    /// Adds the summed NLL (nats) of `tokens` tokens.
    pub fn update(&mut self, nll_sum: f64, tokens: u64) {
        self.nll_sum += nll_sum;
        self.tokens += tokens;
    }

    fn mean_nll(&self) -> Option<f64> {
        (self.tokens > 0).then(|| self.nll_sum / self.tokens as f64)
    }

    pub fn perplexity(&self) -> Option<f64> {
        self.mean_nll().map(f64::exp)
    }

    pub fn bits_per_token(&self) -> Option<f64> {
        self.mean_nll().map(|n| n / std::f64::consts::LN_2)
    }
}
