//! Bring your own model and data: plain embedding pairs, text embedded in-process, TorchScript
//! towers.

use std::path::Path;

use fixtures::{SyntheticTaskConfig, synthetic_task};
use paired_data::{ItemFeatures, PairedSplit};
use sampler_api::rng::Rng;

use crate::support::{quiet_compare, run};

/// Writes `split` as plain pairs: `<name>.tsv` (`id, description`), `<name>.items.npy` and
/// `<name>.text.npy`.
fn write_plain_split(folder: &Path, name: &str, split: &PairedSplit) {
    let ItemFeatures::Dense { values, dim } = &split.items else {
        panic!("the synthetic task has dense items");
    };
    let table: String = std::iter::once("id\tdescription\n".to_string())
        .chain((0..split.n).map(|i| format!("{name}-{i}\tpair {i} of the {name} split\n")))
        .collect();
    std::fs::write(folder.join(format!("{name}.tsv")), table).unwrap();
    let items = folder.join(format!("{name}.items.npy"));
    harness::npy::write_f32(&items, split.n, *dim, values).unwrap();
    let texts = folder.join(format!("{name}.text.npy"));
    harness::npy::write_f32(&texts, split.n, split.text_dim, &split.texts).unwrap();
}

/// A small synthetic task saved as plain pairs, with its manifest `pairs.json`.
fn plain_pairs(folder: &Path) -> std::path::PathBuf {
    let data = synthetic_task(&SyntheticTaskConfig {
        n_train: 300,
        n_test: 100,
        ..SyntheticTaskConfig::default()
    });
    write_plain_split(folder, "train", &data.train);
    write_plain_split(folder, "test", &data.test);
    let manifest = folder.join("pairs.json");
    std::fs::write(
        &manifest,
        r#"{"name": "plain-synthetic",
            "train": {"table": "train.tsv", "embeddings": "train.text.npy", "items": "train.items.npy"},
            "test": {"table": "test.tsv", "embeddings": "test.text.npy", "items": "test.items.npy"}}"#,
    )
    .unwrap();
    manifest
}

/// Every cell of `column` in the CSV file `path`, top to bottom.
fn column(path: &Path, column: &str) -> Vec<String> {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let index = reader
        .headers()
        .unwrap()
        .iter()
        .position(|name| name == column)
        .unwrap();
    reader
        .records()
        .map(|record| record.unwrap()[index].to_string())
        .collect()
}

/// A column of the first row of `runs.csv` in `out`.
fn first_run_cell(out: &Path, name: &str) -> String {
    column(&out.join("runs.csv"), name).swap_remove(0)
}

#[test]
fn plain_embedding_pairs_train_the_dense_tower() {
    let folder = tempfile::tempdir().unwrap();
    let manifest = plain_pairs(folder.path());
    let out = folder.path().join("out");
    let mut args = quiet_compare("random,hard", 1, 1, &out);
    args.extend(["--dataset".into(), manifest.display().to_string()]);
    let (code, stdout, stderr) = run(&args);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("hard"), "{stdout}");
    assert_eq!(first_run_cell(&out, "dataset"), "plain-synthetic");
    assert_eq!(
        first_run_cell(&out, "protocol_version"),
        "mlp+frozen-infonce/1"
    );

    // A molecule encoder cannot read vectors; the message says what to use.
    let mut args = quiet_compare("random", 1, 1, &folder.path().join("refused"));
    args.extend([
        "--dataset".into(),
        manifest.display().to_string(),
        "--item-encoder".into(),
        "graph-transformer".into(),
    ]);
    let (code, _, stderr) = run(&args);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("reads molecules, but the dataset's items are dense vectors: use mlp"),
        "{stderr}"
    );
}

/// Whether the MiniLM model is installed; without it a test says so and passes, unless
/// `REQUIRE_MINILM=1` (CI) makes the missing model a failure.
fn minilm_installed(test: &str) -> bool {
    let installed = models::minilm::default_model_dir()
        .is_some_and(|dir| dir.join("model.safetensors").is_file());
    if !installed {
        assert!(
            std::env::var_os("REQUIRE_MINILM").is_none(),
            "REQUIRE_MINILM is set but the MiniLM model is missing: run scripts/setup-minilm.sh"
        );
        eprintln!("skipping {test}: no MiniLM model (run scripts/setup-minilm.sh)");
    }
    installed
}

fn read_npy(path: &Path) -> harness::npy::NpyMatrix {
    harness::npy::read_matrix(path).unwrap()
}

#[test]
fn embed_writes_minilm_embeddings_and_caches_them() {
    if !minilm_installed("embed_writes_minilm_embeddings_and_caches_them") {
        return;
    }
    let folder = tempfile::tempdir().unwrap();
    let table = folder.path().join("pairs.csv");
    std::fs::write(
        &table,
        "id,SMILES,description\n1,CCO,\"The molecule is ethanol, a primary alcohol.\"\n2,C,The molecule is methane.\n3,O,Water boils at 100℃.\n",
    )
    .unwrap();
    // `harness embed` of the table into `output`, with `extra` flags.
    let embed = |output: &Path, extra: &[&str]| {
        let mut args = vec![
            "embed".to_string(),
            "--input".into(),
            table.display().to_string(),
            "--output".into(),
            output.display().to_string(),
        ];
        args.extend(extra.iter().map(|flag| flag.to_string()));
        run(&args)
    };
    let first = folder.path().join("first.npy");
    let (code, stdout, stderr) = embed(&first, &["--quiet"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains("embedded 3 descriptions of")
            && stdout.contains("0 cut at 256 word pieces"),
        "{stdout}"
    );
    let embeddings = read_npy(&first);
    assert_eq!((embeddings.rows, embeddings.cols), (3, 384));
    for row in embeddings.values.chunks(384) {
        let norm: f32 = row.iter().map(|v| v * v).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-5);
    }

    // The same texts again: read from the cache, identical.
    let second = folder.path().join("second.npy");
    let (code, stdout, _) = embed(&second, &[]);
    assert_eq!(code, 0);
    let cached = stdout
        .split("from the cache (")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .unwrap_or_else(|| panic!("not a cache hit: {stdout}"))
        .to_string();
    assert_eq!(read_npy(&second), embeddings);

    // A damaged cache file is reported, recomputed and replaced.
    std::fs::write(&cached, b"\x93NUMPY damaged").unwrap();
    let (code, stdout, stderr) = embed(&second, &[]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stderr.contains("embedding cache: ignoring"), "{stderr}");
    assert_eq!(read_npy(&second), embeddings);
    assert_eq!(read_npy(Path::new(&cached)), embeddings);

    // A folder without the model is named.
    let model = folder.path().to_str().unwrap();
    let (code, _, stderr) = embed(&second, &["--model", model, "--no-cache"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("tokenizer.json: missing (a MiniLM model folder holds"),
        "{stderr}"
    );
}

#[test]
fn splits_without_embeddings_are_embedded_in_process() {
    if !minilm_installed("splits_without_embeddings_are_embedded_in_process") {
        return;
    }
    let folder = tempfile::tempdir().unwrap();
    plain_pairs(folder.path());
    std::fs::write(
        folder.path().join("pairs.json"),
        r#"{"name": "plain-minilm",
            "train": {"table": "train.tsv", "items": "train.items.npy"},
            "test": {"table": "test.tsv", "items": "test.items.npy"}}"#,
    )
    .unwrap();
    let out = folder.path().join("out");
    let mut args = quiet_compare("random", 1, 1, &out);
    args.extend([
        "--dataset".into(),
        folder.path().join("pairs.json").display().to_string(),
    ]);
    let (code, stdout, stderr) = run(&args);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stderr.contains("train.tsv: 300 descriptions embedded with all-MiniLM-L6-v2"),
        "{stderr}"
    );
    assert_eq!(first_run_cell(&out, "dataset"), "plain-minilm");

    // A model folder that holds no model stops the plan before anything runs.
    std::fs::write(
        folder.path().join("pairs.json"),
        r#"{"name": "plain-minilm", "text_model": "nowhere",
            "train": {"table": "train.tsv", "items": "train.items.npy"},
            "test": {"table": "test.tsv", "embeddings": "test.text.npy", "items": "test.items.npy"}}"#,
    )
    .unwrap();
    let mut args = quiet_compare("random", 1, 1, &folder.path().join("refused"));
    args.extend([
        "--dataset".into(),
        folder.path().join("pairs.json").display().to_string(),
    ]);
    let (code, _, stderr) = run(&args);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("the train split names no embeddings file, so its descriptions are embedded with all-MiniLM-L6-v2, but"),
        "{stderr}"
    );
    assert!(!folder.path().join("refused").exists());
}

/// A committed TorchScript tower (written by `fixtures/torchscript/make_towers.py`).
fn tower(name: &str) -> String {
    format!(
        "torchscript:{}/../fixtures/torchscript/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

#[test]
fn a_torchscript_item_tower_trains_under_the_protocol() {
    let folder = tempfile::tempdir().unwrap();
    let out = folder.path().join("out");
    let mut args = quiet_compare("random,hard", 1, 3, &out);
    args.extend(["--item-encoder".into(), tower("dense_item_tower.pt")]);
    let (code, stdout, stderr) = run(&args);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let version = first_run_cell(&out, "protocol_version");
    assert!(
        version.starts_with("torchscript-") && version.ends_with("+mlp-infonce/1"),
        "{version}"
    );
    // Chance is 1/1000 on the held-out split; the file's weights alone do not retrieve, so an
    // MRR well above it means the optimiser trained the module's parameters.
    let mrr: f64 = first_run_cell(&out, "text_to_item_mrr").parse().unwrap();
    assert!(mrr > 0.1, "text->item MRR {mrr}");

    // Both towers from files, of widths 64 and 32: refused before training, naming both.
    let mut args = quiet_compare("random", 1, 1, &folder.path().join("refused"));
    args.extend([
        "--item-encoder".into(),
        tower("dense_item_tower.pt"),
        "--text-tower".into(),
        tower("text_tower_32.pt"),
    ]);
    let (code, _, stderr) = run(&args);
    assert_eq!(code, 2);
    assert!(
        stderr.contains(
            "dense_item_tower.pt returns 64 values per row but the text side torchscript:"
        ) && stderr.contains("text_tower_32.pt returns 32: they must match"),
        "{stderr}"
    );
    // A built-in item tower takes the width of a TorchScript text tower.
    let out = folder.path().join("text");
    let mut args = quiet_compare("random", 1, 1, &out);
    args.extend(["--text-tower".into(), tower("text_tower_32.pt")]);
    let (code, stdout, stderr) = run(&args);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(first_run_cell(&out, "protocol_version").starts_with("mlp+torchscript-"));
}

/// A small molecule dataset with 32-wide description embeddings, its manifest `pairs.json`:
/// carbon chains of 1-12 atoms ending in one of eight groups (96 molecules, the same in both
/// splits), each described by the normalised sum of a random code of its chain length and one of
/// its end group, so that a graph tower can learn to retrieve them from their structure.
fn chain_molecules(folder: &Path) -> std::path::PathBuf {
    const WIDTH: usize = 32;
    const GROUPS: [&str; 8] = ["", "O", "N", "F", "Cl", "Br", "S", "C(=O)O"];
    let mut rng = Rng::for_stream(7, &[]);
    let mut code = || -> Vec<f64> { (0..WIDTH).map(|_| rng.normal()).collect() };
    let lengths: Vec<Vec<f64>> = (0..12).map(|_| code()).collect();
    let groups: Vec<Vec<f64>> = GROUPS.iter().map(|_| code()).collect();
    let mut rows = Vec::new();
    let mut texts = Vec::new();
    for (length, length_code) in lengths.iter().enumerate() {
        for (group, group_code) in GROUPS.iter().zip(&groups) {
            let smiles = format!("{}{group}", "C".repeat(length + 1));
            rows.push(format!(
                "{smiles}\tchain of {} ending in '{group}'",
                length + 1
            ));
            let sum: Vec<f64> = length_code
                .iter()
                .zip(group_code)
                .map(|(a, b)| a + b)
                .collect();
            let norm = sum.iter().map(|v| v * v).sum::<f64>().sqrt();
            texts.extend(sum.iter().map(|v| (v / norm) as f32));
        }
    }
    for split in ["train", "test"] {
        let table: String = std::iter::once("id\tSMILES\tdescription\n".to_string())
            .chain(
                rows.iter()
                    .enumerate()
                    .map(|(i, row)| format!("{split}-{i}\t{row}\n")),
            )
            .collect();
        std::fs::write(folder.join(format!("{split}.tsv")), table).unwrap();
        let embeddings = folder.join(format!("{split}.text.npy"));
        harness::npy::write_f32(&embeddings, rows.len(), WIDTH, &texts).unwrap();
    }
    let manifest = folder.join("pairs.json");
    std::fs::write(
        &manifest,
        r#"{"name": "chains",
            "train": {"table": "train.tsv", "embeddings": "train.text.npy"},
            "test": {"table": "test.tsv", "embeddings": "test.text.npy"}}"#,
    )
    .unwrap();
    manifest
}

#[test]
fn a_torchscript_graph_tower_trains_on_molecules() {
    let folder = tempfile::tempdir().unwrap();
    let manifest = chain_molecules(folder.path());
    // `compare --samplers random` on the molecules with a committed item tower.
    let compare = |out: &Path, epochs: u32, item_tower: &str, extra: &[&str]| {
        let mut args = quiet_compare("random", 1, epochs, out);
        args.extend(["--dataset".into(), manifest.display().to_string()]);
        args.extend(["--item-encoder".into(), tower(item_tower)]);
        args.extend(extra.iter().map(|flag| flag.to_string()));
        run(&args)
    };
    let out = folder.path().join("out");
    let learning = ["--batch-size", "16", "--lr", "3e-3"];
    let (code, stdout, stderr) = compare(&out, 12, "graph_item_tower_32.pt", &learning);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(first_run_cell(&out, "protocol_version").starts_with("torchscript-"));
    // Chance is about 0.05 among 96 molecules; learning shows as a rise well above it.
    let mrrs: Vec<f64> = column(&out.join("epochs.csv"), "text_to_item_mrr")
        .iter()
        .map(|mrr| mrr.parse().unwrap())
        .collect();
    let (first, last) = (mrrs[0], mrrs[mrrs.len() - 1]);
    assert!(
        last > 0.3 && last > first + 0.1,
        "text->item MRR per epoch {mrrs:?}"
    );

    // A dense tower cannot read graphs: refused before training, naming the file and contract.
    let refused = folder.path().join("refused");
    let (code, _, stderr) = compare(&refused, 1, "dense_item_tower.pt", &[]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("dense_item_tower.pt: forward failed on molecule graphs, forward(x, edge_index, edge_attr, batch, num_graphs: int): ")
            && !stderr.contains("Exception raised from"),
        "{stderr}"
    );
    assert!(!refused.exists());
}
