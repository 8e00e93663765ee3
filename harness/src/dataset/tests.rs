use std::fs;

use super::*;
use crate::npy::{f32_npy, npy_bytes};

/// A temporary dataset folder with a manifest, pairs tables and embeddings.
struct Folder {
    dir: tempfile::TempDir,
}

const TRAIN_TSV: &str = "CID\tSMILES\tdescription\n\
    1\tCCO\tThe molecule is \"ethanol\".\n\
    2\tc1ccccc1\tThe molecule is benzene, it's aromatic.\n\
    3\tC/C=C\\\\C\tThe molecule is a butene.\n";
const TEST_TSV: &str = "CID\tSMILES\tdescription\n\
    4\tCC(=O)O\tThe molecule is acetic acid.\n\
    5\t[NH4+]\tThe molecule is ammonium.\n";

/// `rows` distinct unit-ish rows of width 4.
fn embeddings(rows: usize) -> Vec<f32> {
    (0..rows * 4).map(|v| ((v * 7) % 5) as f32 + 0.5).collect()
}

/// `values` with the one at `index` moved by 1e-6: a change a fingerprint must still notice.
fn nudged(mut values: Vec<f32>, index: usize) -> Vec<f32> {
    values[index] += 1e-6;
    values
}

impl Folder {
    fn new() -> Self {
        let folder = Folder {
            dir: tempfile::tempdir().unwrap(),
        };
        folder.write("train.tsv", TRAIN_TSV.as_bytes());
        folder.write("test.tsv", TEST_TSV.as_bytes());
        folder.write("train.minilm.npy", &f32_npy(&embeddings(3), 3, 4));
        folder.write("test.minilm.npy", &f32_npy(&embeddings(2), 2, 4));
        folder
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn write(&self, name: &str, bytes: &[u8]) {
        fs::write(self.path(name), bytes).unwrap();
    }

    /// Replaces the one place of `from` in the text file `name` with `to`.
    fn edit(&self, name: &str, from: &str, to: &str) {
        let text = fs::read_to_string(self.path(name)).unwrap();
        assert_eq!(text.matches(from).count(), 1, "{from:?} in {name}");
        self.write(name, text.replace(from, to).as_bytes());
    }

    fn load(&self) -> Result<LoadedDataset, DatasetError> {
        self.load_strict(false)
    }

    fn load_strict(&self, strict: bool) -> Result<LoadedDataset, DatasetError> {
        load(
            &DatasetSpec::Files(Manifest::chebi20(self.dir.path())),
            strict,
        )
    }

    /// The error of loading, with the folder's path replaced by `DIR`.
    fn error(&self) -> String {
        let message = self.load().unwrap_err().to_string();
        message.replace(&self.dir.path().display().to_string(), "DIR")
    }
}

fn graphs(split: &PairedSplit) -> &[MolGraph] {
    match &split.items {
        ItemFeatures::Graphs(graphs) => graphs,
        ItemFeatures::Dense { .. } => panic!("expected molecules"),
    }
}

#[test]
fn loads_the_chebi20_layout() {
    let folder = Folder::new();
    let loaded = folder.load().unwrap();
    let data = &loaded.data;
    assert_eq!(data.name, "chebi20");
    assert_eq!((data.train.n, data.test.n), (3, 2));
    assert_eq!((data.train.text_dim, data.test.text_dim), (4, 4));
    assert_eq!(data.train.texts, embeddings(3));
    assert_eq!(graphs(&data.train)[0].atoms.len(), 3);
    assert_eq!(graphs(&data.train)[1].atoms.len(), 6);
    // The doubled backslash of the ChEBI files is read as one bond direction.
    assert_eq!(graphs(&data.train)[2].atoms.len(), 4);
    assert!(loaded.skipped.is_empty());
    assert_eq!(loaded.fingerprint.len(), 16);
    assert_eq!(loaded.fingerprint, folder.load().unwrap().fingerprint);
}

#[test]
fn the_fingerprint_follows_every_files_bytes() {
    let folder = Folder::new();
    let before = folder.load().unwrap().fingerprint;
    folder.edit("test.tsv", "acetic acid", "acetic acid!");
    let after_table = folder.load().unwrap().fingerprint;
    assert_ne!(before, after_table);
    folder.write("test.minilm.npy", &f32_npy(&nudged(embeddings(2), 7), 2, 4));
    assert_ne!(after_table, folder.load().unwrap().fingerprint);
}

#[test]
fn manifests_resolve_paths_against_their_folder() {
    let folder = Folder::new();
    fs::create_dir(folder.path("meta")).unwrap();
    let manifest = r#"{"name": "tiny", "train": {"table": "../train.tsv", "embeddings": "../train.minilm.npy"},
        "test": {"table": "../test.tsv", "embeddings": "../test.minilm.npy"}}"#;
    folder.write("meta/tiny.json", manifest.as_bytes());
    let manifest = Manifest::read(&folder.path("meta/tiny.json")).unwrap();
    manifest.check_files_exist().unwrap();
    let loaded = load(&DatasetSpec::Files(manifest), true).unwrap();
    assert_eq!(
        (loaded.data.name.as_str(), loaded.data.train.n),
        ("tiny", 3)
    );
    assert_eq!(loaded.fingerprint, folder.load().unwrap().fingerprint);

    folder.write("bad.json", br#"{"name": "x", "train": {"table": "a.tsv", "embeddings": "a.npy"}, "test": {"table": "b.tsv", "embeddings": "b.npy", "labels": "c"}}"#);
    let message = Manifest::read(&folder.path("bad.json"))
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("bad.json:1: not a valid dataset manifest: unknown field `labels`"),
        "{message}"
    );
    folder.write(
        "missing.json",
        br#"{"name": "x", "train": {"table": "a.tsv", "embeddings": "a.npy"}, "test": {"table": "b.tsv", "embeddings": "b.npy"}}"#,
    );
    let manifest = Manifest::read(&folder.path("missing.json")).unwrap();
    let message = manifest.check_files_exist().unwrap_err().to_string();
    assert!(
        message.ends_with("a.tsv: the train table file does not exist"),
        "{message}"
    );
    // A folder where a file belongs is named as such, not as missing.
    std::fs::create_dir(folder.path("a.tsv")).unwrap();
    let message = manifest.check_files_exist().unwrap_err().to_string();
    assert!(
        message.ends_with("a.tsv: the train table file is a folder, not a file"),
        "{message}"
    );
}

#[test]
fn table_errors_name_the_file_and_line() {
    // (file, text, replacement, error)
    let cases = [
        // A tab turned into a space: the row has one field too few.
        (
            "train.tsv",
            "2\tc1ccccc1\t",
            "2\tc1ccccc1 ",
            "DIR/train.tsv:3: expected 3 tab-separated fields (id, SMILES, description), found 2",
        ),
        // Ids must be unique across both splits.
        (
            "test.tsv",
            "5\t[NH4+]",
            "2\t[NH4+]",
            "DIR/test.tsv:3: id '2' is used twice (first at DIR/train.tsv:3)",
        ),
    ];
    for (file, text, replacement, error) in cases {
        let folder = Folder::new();
        folder.edit(file, text, replacement);
        assert_eq!(folder.error(), error);
    }
}

#[test]
fn embedding_rows_must_match_table_rows() {
    let folder = Folder::new();
    folder.write("test.minilm.npy", &f32_npy(&embeddings(3), 3, 4));
    assert_eq!(
        folder.error(),
        "DIR/test.minilm.npy: has 3 embedding rows, but DIR/test.tsv has 2 data rows (row i must embed the description of table row i)"
    );
    folder.write("test.minilm.npy", &f32_npy(&embeddings(4)[..10], 2, 5));
    assert_eq!(
        folder.error(),
        "DIR/test.minilm.npy: has 5 values per row, but DIR/train.minilm.npy has 4"
    );
}

#[test]
fn bad_npy_files_are_named() {
    let folder = Folder::new();
    let doubles: Vec<u8> = (0..12).flat_map(|v| f64::from(v).to_le_bytes()).collect();
    folder.write(
        "train.minilm.npy",
        &npy_bytes(
            "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }",
            &doubles,
        ),
    );
    assert_eq!(
        folder.error(),
        "DIR/train.minilm.npy: dtype '<f8' is not float32; save arr.astype(np.float32)"
    );
    folder.write("train.minilm.npy", b"id,x\n1,2\n");
    assert!(
        folder
            .error()
            .starts_with("DIR/train.minilm.npy: not an .npy file")
    );
}

#[test]
fn nan_and_zero_rows_are_refused() {
    let folder = Folder::new();
    let mut values = embeddings(3);
    values[5] = f32::NAN;
    folder.write("train.minilm.npy", &f32_npy(&values, 3, 4));
    assert_eq!(
        folder.error(),
        "DIR/train.minilm.npy: row 1 (id 2, DIR/train.tsv line 3) has a NaN or infinite value"
    );
    let mut values = embeddings(2);
    values[4..8].fill(0.0);
    folder.write("train.minilm.npy", &f32_npy(&embeddings(3), 3, 4));
    folder.write("test.minilm.npy", &f32_npy(&values, 2, 4));
    assert_eq!(
        folder.error(),
        "DIR/test.minilm.npy: row 1 (id 5, DIR/test.tsv line 3) is all zeros (it has no direction)"
    );
}

#[test]
fn unparsable_smiles_are_skipped_and_listed_or_refused_when_strict() {
    let folder = Folder::new();
    folder.edit("train.tsv", "c1ccccc1", "C1CC(");
    let loaded = folder.load().unwrap();
    assert_eq!(loaded.data.train.n, 2);
    // The pair goes with its embedding: rows 0 and 2 remain.
    let expected: Vec<f32> = embeddings(3)
        .chunks(4)
        .enumerate()
        .filter(|(i, _)| *i != 1)
        .flat_map(|(_, row)| row.to_vec())
        .collect();
    assert_eq!(loaded.data.train.texts, expected);
    assert_eq!(loaded.skipped.len(), 1);
    let skipped = &loaded.skipped[0];
    assert_eq!(
        (
            skipped.split,
            skipped.line,
            skipped.id.as_str(),
            skipped.smiles.as_str()
        ),
        ("train", 3, "2", "C1CC(")
    );
    assert!(!skipped.reason.is_empty());
    assert_ne!(
        loaded.fingerprint,
        Folder::new().load().unwrap().fingerprint
    );

    let list = write_skipped(folder.dir.path(), &loaded.skipped).unwrap();
    let text = fs::read_to_string(&list).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("split,table,line,id,smiles,reason"));
    assert!(lines.next().unwrap().starts_with(&format!(
        "train,{},3,2,C1CC(,",
        folder.path("train.tsv").display()
    )));
    let summary = skipped_summary(&loaded, &list).unwrap();
    assert!(summary.starts_with("warning: skipped 1 pairs whose SMILES did not parse (1 train, 0 test): train 2; listed with reasons in"), "{summary}");

    let message = folder.load_strict(true).unwrap_err().to_string();
    assert!(
        message.contains("train.tsv:3: the SMILES of id 2 does not parse: "),
        "{message}"
    );
    assert!(
        message.ends_with("(without --strict the pair would be skipped)"),
        "{message}"
    );
}

#[test]
fn dataset_names_parse() {
    assert_eq!("synthetic".parse(), Ok(DatasetChoice::Synthetic));
    assert_eq!("chebi20".parse(), Ok(DatasetChoice::Chebi20));
    assert_eq!(
        "data/my.JSON".parse(),
        Ok(DatasetChoice::Manifest("data/my.JSON".into()))
    );
    let unknown = "zinc".parse::<DatasetChoice>().unwrap_err();
    assert!(unknown.starts_with("unknown dataset 'zinc'"), "{unknown}");
}

#[test]
fn synthetic_fingerprint_tracks_contents() {
    let mut data = load(&DatasetSpec::Synthetic, false).unwrap().data;
    let before = fingerprint(&data);
    assert_eq!(before, fingerprint(&data));
    data.test.texts[0] += 1e-3;
    assert_ne!(before, fingerprint(&data));
}

/// The shared ChEBI-20 files, when this checkout sits beside them.
#[test]
fn the_shared_chebi20_folder_loads() {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/chebi20");
    if !folder.join("train.tsv").is_file() {
        eprintln!("skipped: {} is absent", folder.display());
        return;
    }
    let loaded = load(&DatasetSpec::Files(Manifest::chebi20(&folder)), false).unwrap();
    let data = &loaded.data;
    let skipped = loaded.skipped.len();
    eprintln!(
        "chebi20: {} train + {} test pairs, {skipped} skipped",
        data.train.n, data.test.n
    );
    assert_eq!(data.train.n + data.test.n + skipped, 6601);
    assert_eq!(data.train.text_dim, 384);
    assert!(skipped <= 66, "{skipped} SMILES did not parse");
}

/// A dataset of plain pairs: `id, description` tables and items files of width 3.
fn plain_folder() -> Folder {
    let folder = Folder::new();
    folder.write(
        "train.tsv",
        b"id\tdescription\na\tA red apple.\nb\tA \"green\" pear.\nc\tA plum.\n",
    );
    folder.write("test.tsv", b"id\tdescription\nd\tA lemon.\ne\tA fig.\n");
    folder.write("train.items.npy", &f32_npy(&items(3), 3, 3));
    folder.write("test.items.npy", &f32_npy(&items(2), 2, 3));
    folder.write(
        "plain.json",
        br#"{"name": "fruit",
            "train": {"table": "train.tsv", "embeddings": "train.minilm.npy", "items": "train.items.npy"},
            "test": {"table": "test.tsv", "embeddings": "test.minilm.npy", "items": "test.items.npy"}}"#,
    );
    folder
}

/// `rows` item vectors of width 3 (the first one all zeros, which items may be).
fn items(rows: usize) -> Vec<f32> {
    (0..rows * 3)
        .map(|v| if v < 3 { 0.0 } else { v as f32 - 4.5 })
        .collect()
}

impl Folder {
    fn load_plain(&self) -> Result<LoadedDataset, DatasetError> {
        let manifest = Manifest::read(&self.path("plain.json"))?;
        manifest.check_files_exist()?;
        load(&DatasetSpec::Files(manifest), true)
    }

    /// Writes `bytes` to `file` and returns the error of loading the plain pairs then, with
    /// the folder shown as `DIR`.
    fn plain_error_after(&self, file: &str, bytes: &[u8]) -> String {
        self.write(file, bytes);
        let message = self.load_plain().unwrap_err().to_string();
        message.replace(&self.dir.path().display().to_string(), "DIR")
    }
}

#[test]
fn plain_pairs_load_their_items_as_dense_vectors() {
    let folder = plain_folder();
    let manifest = Manifest::read(&folder.path("plain.json")).unwrap();
    assert!(!manifest.has_molecules());
    assert!(!DatasetSpec::Files(manifest).has_molecules());
    let loaded = folder.load_plain().unwrap();
    let data = &loaded.data;
    assert_eq!(
        (data.name.as_str(), data.train.n, data.test.n),
        ("fruit", 3, 2)
    );
    assert_eq!(
        data.train.items,
        ItemFeatures::Dense {
            values: items(3),
            dim: 3
        }
    );
    assert_eq!(data.test.texts, embeddings(2));
    let before = loaded.fingerprint;
    folder.write("test.items.npy", &f32_npy(&nudged(items(2), 4), 2, 3));
    assert_ne!(before, folder.load_plain().unwrap().fingerprint);
}

#[test]
fn plain_pairs_are_checked_strictly() {
    let folder = plain_folder();
    assert_eq!(
        folder.plain_error_after("test.items.npy", &f32_npy(&items(3), 3, 3)),
        "DIR/test.items.npy: has 3 item rows, but DIR/test.tsv has 2 data rows (row i must be the item of table row i)"
    );
    let mut values = items(2);
    values[4] = f32::NAN;
    assert_eq!(
        folder.plain_error_after("test.items.npy", &f32_npy(&values, 2, 3)),
        "DIR/test.items.npy: row 1 (id e, DIR/test.tsv line 3) has a NaN or infinite value"
    );
    assert_eq!(
        folder.plain_error_after("test.items.npy", &f32_npy(&items(4)[..10], 2, 5)),
        "DIR/test.items.npy: has 5 values per item, but DIR/train.items.npy has 3"
    );
    folder.write("test.items.npy", &f32_npy(&items(2), 2, 3));
    assert_eq!(
        folder.plain_error_after("test.tsv", TEST_TSV.as_bytes()),
        "DIR/test.tsv:1: the header has 3 tab-separated fields; expected 2 (id, description: the items come from the split's items file)"
    );
    assert_eq!(
        folder.plain_error_after(
            "test.tsv",
            b"id\tdescription\nd\tA lemon.\na\tAn apple again.\n"
        ),
        "DIR/test.tsv:3: id 'a' is used twice (first at DIR/train.tsv:2)"
    );
    // A test split without the train split's items file, then with a missing one.
    let train =
        r#"{"table": "train.tsv", "embeddings": "train.minilm.npy", "items": "train.items.npy"}"#;
    let cases = [
        (
            r#"{"table": "test.tsv", "embeddings": "test.minilm.npy"}"#,
            "DIR/plain.json: the train split names an items file but the test split does not: give both (items are vectors) or neither (items are the tables' molecules)",
        ),
        (
            r#"{"table": "test.tsv", "embeddings": "test.minilm.npy", "items": "gone.npy"}"#,
            "DIR/gone.npy: the test items file does not exist",
        ),
    ];
    for (test, expected) in cases {
        let manifest = format!(r#"{{"name": "fruit", "train": {train}, "test": {test}}}"#);
        assert_eq!(
            folder.plain_error_after("plain.json", manifest.as_bytes()),
            expected
        );
    }
}
