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
