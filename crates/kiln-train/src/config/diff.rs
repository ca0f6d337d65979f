/// Dotted keys whose values differ between two TOML tables (present in either).
pub fn differing_keys(a: &toml::Table, b: &toml::Table) -> Vec<String> {
    let mut out = Vec::new();
    walk("", a, b, &mut out);
    out.sort();
    out
}

fn walk(prefix: &str, a: &toml::Table, b: &toml::Table, out: &mut Vec<String>) {
    let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    for key in keys {
        let path = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
        match (a.get(key), b.get(key)) {
            (Some(toml::Value::Table(x)), Some(toml::Value::Table(y))) => walk(&path, x, y, out),
            (x, y) if x != y => out.push(path),
            _ => {}
        }
    }
}

/// The dotted keys at which a run's saved `config.toml` differs from `cfg`, leaving out the
/// `ignored` keys and `[reproduce]` (which only judges a finished run). The saved file is read
/// through the schema first, so a key added to kiln since the run was saved, at its default,
/// is no difference; a file the schema no longer reads is compared as it stands.
pub fn run_config_changes(
    saved: &std::path::Path,
    cfg: &super::ExperimentConfig,
    ignored: &[&str],
) -> Result<Vec<String>, String> {
    let text = std::fs::read_to_string(saved).map_err(|e| format!("no readable config.toml ({e})"))?;
    let saved: toml::Table = match super::load_experiment(saved, &[]) {
        Ok(filled) => toml::Table::try_from(&filled).expect("a loaded config serialises"),
        Err(_) => toml::from_str(&text).map_err(|e| format!("config.toml: {e}"))?,
    };
    let current = toml::Table::try_from(cfg).expect("a loaded config serialises");
    Ok(differing_keys(&saved, &current)
        .into_iter()
        .filter(|k| !ignored.contains(&k.as_str()) && k != "reproduce" && !k.starts_with("reproduce."))
        .collect())
}
