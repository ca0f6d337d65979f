/// The candidate nearest to `word` by edit distance, if it is near enough to be a likely typo.
///
/// ```
/// assert_eq!(kiln_train::config::closest("lerning_rate", ["lr", "learning_rate"]), Some("learning_rate".to_string()));
/// assert_eq!(kiln_train::config::closest("zzz", ["lr", "betas"]), None);
/// ```
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(word, c), c))
        .filter(|(score, _)| *score >= 0.7)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c.to_string())
}
