//! The checks every model config here shares: sizes of at least one, dropout a probability.

/// Says which of the named sizes is zero, or that `dropout` is outside `[0, 1)`.
pub(crate) fn check_sizes_and_dropout(sizes: &[(&str, usize)], dropout: f64) -> Result<(), String> {
    if let Some((key, _)) = sizes.iter().find(|(_, v)| *v == 0) {
        return Err(format!("{key} must be at least 1"));
    }
    if !(0.0..1.0).contains(&dropout) {
        return Err(format!("dropout must be in [0, 1), not {dropout}"));
    }
    Ok(())
}
