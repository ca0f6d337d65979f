//! The diffusion task: its config checks, and a short run scored by sampling.

use std::path::Path;

use kiln_train::progress::Silent;
use kiln_train::run::run_experiment;

use super::config;

fn diffusion_toml(out: &Path, root: &Path, loss: &str, sampling: &str) -> String {
    format!(
        r#"
[experiment]
name = "diff"
seed = 5
output_dir = "{out}"

[task]
name = "diffusion"

[model]
name = "mlp_denoiser"
hidden = 16
blocks = 1
embed_dim = 8

[data]
dataset = "points"
root = "{root}"
batch_size = 32
valid_fraction = 0.0

[loss]
{loss}

{sampling}

[optim]
name = "adam"
lr = 1e-3

[train]
epochs = 1
backend = "ndarray"
"#,
        out = out.display(),
        root = root.display()
    )
}

fn error(text: &str) -> String {
    config(text).unwrap_err().to_string()
}

#[test]
fn diffusion_sections_are_checked_where_they_are_written() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    config(&diffusion_toml(d, d, "name = \"ddpm\"", "")).unwrap();
    let e = error(&diffusion_toml(d, d, "name = \"ddpn\"", ""));
    assert!(e.contains("did you mean 'ddpm'"), "{e}");
    let e = error(&diffusion_toml(d, d, "name = \"edm\"\nschedule = \"cosine\"", ""));
    assert!(e.contains("'schedule' is not a setting of the 'edm' objective"), "{e}");
    let e = error(&diffusion_toml(d, d, "name = \"ddpm\"", "[sampling]\nsampler = \"edm\"\nsteps = 10\neta = 0.5"));
    assert!(e.contains("eta is DDIM's"), "{e}");
    let e = error(&diffusion_toml(d, d, "name = \"ddpm\"", "[sampling]\nsampler = \"dpm\"\nsteps = 10"));
    assert!(e.contains("unknown sampler 'dpm'"), "{e}");
    let e =
        error(&diffusion_toml(d, d, "name = \"ddpm\"", "[sampling]\nsampler = \"ddim\"\nsteps = 10\nguidance = 2.0"));
    assert!(e.contains("class-conditional"), "{e}");
}

#[test]
fn a_short_run_is_scored_by_sampling_with_every_compared_sampler() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("points");
    std::fs::create_dir(&data).unwrap();
    // Points on a circle of radius 2: training and test halves.
    let circle = |offset: usize, n: usize| {
        let mut text = String::from("x,y\n");
        for i in 0..n {
            let a = (i + offset) as f64 * 0.7;
            text += &format!("{:.5},{:.5}\n", 2.0 * a.cos(), 2.0 * a.sin());
        }
        text
    };
    std::fs::write(data.join("train.csv"), circle(0, 128)).unwrap();
    std::fs::write(data.join("test.csv"), circle(1000, 64)).unwrap();
    let sampling = "[sampling]\nsampler = \"ddim\"\nsteps = 5\nsamples = 32\n\n[sampling.compare.heun]\nsampler = \"edm\"\nsteps = 3\n\n[sampling.compare.flow]\nsampler = \"rf-heun\"\nsteps = 2";
    for loss in ["name = \"ddpm\"\nsteps = 100", "name = \"flow_matching\""] {
        let cfg = config(&diffusion_toml(dir.path(), &data, loss, sampling)).unwrap();
        let summary = run_experiment(&cfg, None, &mut Silent).unwrap();
        let m = &summary.metrics;
        // NFE: DDIM one per step; EDM's Heun 2·3 − 1; rectified flow's Heun 2·2 − 1.
        assert_eq!((m["test/nfe"], m["test/heun_nfe"], m["test/flow_nfe"]), (5.0, 5.0, 3.0), "{m:?}");
        for key in ["test/mmd", "test/swd", "test/heun_swd", "test/flow_straightness", "test/loss", "train/loss"] {
            assert!(m[key].is_finite(), "{key}: {m:?}");
        }
        assert!(m["test/swd"] >= 0.0 && m["test/flow_straightness"] >= 0.0);
    }
}

#[test]
fn sampling_belongs_to_the_diffusion_task_alone() {
    let dir = tempfile::tempdir().unwrap();
    let text = diffusion_toml(dir.path(), dir.path(), "name = \"ddpm\"", "[sampling]\nsampler = \"ddim\"\nsteps = 5")
        .replace("name = \"diffusion\"", "name = \"classification\"");
    let e = error(&text);
    assert!(e.contains("[sampling] is read by the diffusion task only"), "{e}");
}
