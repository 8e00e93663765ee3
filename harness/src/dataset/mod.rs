//! The paired datasets a comparison can run on, with a content fingerprint for reports.
//!
//! * `synthetic`: the built-in task, generated in code (see `fixtures::synthetic_task`).
//! * Datasets on disk, per split a pairs table (see [`table`]) and a float32 `.npy` of
//!   description embeddings in the table's row order (see [`npy`]; a split without one has its
//!   descriptions embedded by all-MiniLM-L6-v2, see [`text_embeddings`]); named by a JSON manifest
//!   (see [`Manifest`]) or by `chebi20` plus a folder holding `train.tsv`, `test.tsv`,
//!   `train.minilm.npy` and `test.minilm.npy`. Items are molecules (the table holds
//!   `id, SMILES, description`) or, when the manifest names an items `.npy` per split, dense
//!   vectors (the table holds `id, description`).
//!
//! Loading is strict: a malformed table or `.npy`, row counts that disagree, a NaN, infinite or
//! all-zero embedding, a NaN or infinite item value, or an id used twice is an error naming the
//! file (and line). A SMILES that does not parse is skipped with its pair and listed (or, with
//! `strict`, an error).

pub mod table;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use fixtures::{SyntheticTaskConfig, synthetic_task};
use molecules::MolGraph;
use paired_data::{ItemFeatures, PairedData, PairedSplit};
use serde::Deserialize;

use crate::fnv::Fnv1a;
use crate::npy::NpyMatrix;
use crate::text_embeddings;
use table::{TableLayout, TableRow, parse_table};

/// Which dataset `--dataset` names: `synthetic`, `chebi20` or the path of a manifest (`.json`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatasetChoice {
    /// The built-in synthetic 5-cluster task, generated in code (see `fixtures::synthetic_task`).
    Synthetic,
    /// The shared ChEBI-20 folder layout (the folder comes from `--data-dir`).
    Chebi20,
    /// A dataset described by a manifest file.
    Manifest(PathBuf),
}

impl FromStr for DatasetChoice {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "synthetic" => Ok(DatasetChoice::Synthetic),
            "chebi20" => Ok(DatasetChoice::Chebi20),
            path if path.to_ascii_lowercase().ends_with(".json") => {
                Ok(DatasetChoice::Manifest(PathBuf::from(path)))
            }
            other => Err(format!(
                "unknown dataset '{other}': expected synthetic, chebi20 or the path of a dataset manifest (.json)"
            )),
        }
    }
}

impl std::fmt::Display for DatasetChoice {
    /// The `--dataset` text that parses back to this choice.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DatasetChoice::Synthetic => f.write_str("synthetic"),
            DatasetChoice::Chebi20 => f.write_str("chebi20"),
            DatasetChoice::Manifest(path) => write!(f, "{}", path.display()),
        }
    }
}

/// The files of one split.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SplitFiles {
    /// Pairs table: `.tsv` or `.csv`, header line, then `id, SMILES, description` rows (or
    /// `id, description` rows when `items` is given).
    pub table: PathBuf,
    /// float32 `.npy` of shape `[rows, dim]`: row `i` embeds the description of table row `i`.
    /// Without it the descriptions are embedded with all-MiniLM-L6-v2 (and cached).
    #[serde(default)]
    pub embeddings: Option<PathBuf>,
    /// float32 `.npy` of shape `[rows, features]`: row `i` is the item of table row `i`. Without
    /// it the items are the table's molecules.
    #[serde(default)]
    pub items: Option<PathBuf>,
}

/// A dataset manifest: `{"name": ..., "train": {"table": ..., "embeddings": ...}, "test": {...}}`
/// (each split optionally with `"items": "....npy"`) with paths relative to the manifest's
/// folder (or absolute).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Name shown in reports.
    pub name: String,
    /// Pairs the model is trained on.
    pub train: SplitFiles,
    /// Held-out pairs (the retrieval gallery).
    pub test: SplitFiles,
    /// The MiniLM model folder that embeds the descriptions of a split without an embeddings
    /// file; default: `$SAMPLER_HARNESS_MINILM`, else the installed model.
    #[serde(default)]
    pub text_model: Option<PathBuf>,
}

/// A dataset resolved to what must be generated or read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatasetSpec {
    /// The built-in synthetic task.
    Synthetic,
    /// A dataset on disk (paths resolved).
    Files(Manifest),
}

impl DatasetSpec {
    /// Whether the items are molecules (rather than dense vectors).
    pub fn has_molecules(&self) -> bool {
        match self {
            DatasetSpec::Synthetic => false,
            DatasetSpec::Files(manifest) => manifest.has_molecules(),
        }
    }
}

/// Why a dataset could not be read; every message names the file.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    /// The file could not be read at all.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Something is wrong at one line of a file.
    #[error("{}:{line}: {message}", path.display())]
    AtLine {
        path: PathBuf,
        line: usize,
        message: String,
    },
    /// Something is wrong with a file as a whole (or with a pair of files).
    #[error("{}: {message}", path.display())]
    InFile { path: PathBuf, message: String },
}

impl DatasetError {
    fn at(path: &Path, line: usize, message: impl Into<String>) -> Self {
        let (path, message) = (path.to_path_buf(), message.into());
        if line == 0 {
            DatasetError::InFile { path, message }
        } else {
            DatasetError::AtLine {
                path,
                line,
                message,
            }
        }
    }
}

impl Manifest {
    /// Reads a manifest; its relative paths are resolved against its folder.
    pub fn read(path: &Path) -> Result<Self, DatasetError> {
        let text = std::fs::read_to_string(path).map_err(|source| DatasetError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let mut manifest: Manifest = serde_json::from_str(&text).map_err(|e| {
            DatasetError::at(path, e.line(), format!("not a valid dataset manifest: {e}"))
        })?;
        let folder = path.parent().unwrap_or(Path::new(""));
        for split in [&mut manifest.train, &mut manifest.test] {
            split.table = folder.join(&split.table);
            split.embeddings = split.embeddings.as_ref().map(|path| folder.join(path));
            split.items = split.items.as_ref().map(|items| folder.join(items));
        }
        manifest.text_model = manifest.text_model.as_ref().map(|path| folder.join(path));
        if manifest.train.items.is_some() != manifest.test.items.is_some() {
            let (with, without) = if manifest.train.items.is_some() {
                ("train", "test")
            } else {
                ("test", "train")
            };
            return Err(DatasetError::at(
                path,
                0,
                format!(
                    "the {with} split names an items file but the {without} split does not: give both (items are vectors) or neither (items are the tables' molecules)"
                ),
            ));
        }
        Ok(manifest)
    }

    /// Whether the items are the tables' molecules (no items files).
    pub fn has_molecules(&self) -> bool {
        self.train.items.is_none()
    }

    /// The shared ChEBI-20 layout in `folder`.
    pub fn chebi20(folder: &Path) -> Self {
        let split = |name: &str| SplitFiles {
            table: folder.join(format!("{name}.tsv")),
            embeddings: Some(folder.join(format!("{name}.minilm.npy"))),
            items: None,
        };
        Manifest {
            name: "chebi20".into(),
            train: split("train"),
            test: split("test"),
            text_model: None,
        }
    }

    /// Every file named, with its role.
    fn files(&self) -> Vec<(&'static str, &Path)> {
        let mut files = vec![
            ("train table", self.train.table.as_path()),
            ("test table", &self.test.table),
        ];
        for (role, file) in [
            ("train embeddings", &self.train.embeddings),
            ("test embeddings", &self.test.embeddings),
            ("train items", &self.train.items),
            ("test items", &self.test.items),
        ] {
            if let Some(file) = file {
                files.push((role, file));
            }
        }
        files
    }

    /// The first file that does not exist, as an error (so a bad path fails before any work),
    /// and, when a split's descriptions are to be embedded, a missing MiniLM model.
    pub fn check_files_exist(&self) -> Result<(), DatasetError> {
        if let Some((name, split)) = [("train", &self.train), ("test", &self.test)]
            .into_iter()
            .find(|(_, split)| split.embeddings.is_none())
        {
            let model = self
                .text_model
                .clone()
                .or_else(models::minilm::default_model_dir);
            if !model
                .as_ref()
                .is_some_and(|dir| dir.join("model.safetensors").is_file())
            {
                return Err(DatasetError::at(
                    &split.table,
                    0,
                    format!(
                        "the {name} split names no embeddings file, so its descriptions are embedded with all-MiniLM-L6-v2, but {}",
                        match model {
                            Some(dir) => format!("{} holds no model.safetensors: run scripts/setup-minilm.sh or set the manifest's \"text_model\"", dir.display()),
                            None => "no model folder is known: run scripts/setup-minilm.sh or set the manifest's \"text_model\"".into(),
                        }
                    ),
                ));
            }
        }
        match self.files().into_iter().find(|(_, path)| !path.is_file()) {
            Some((role, path)) => Err(DatasetError::InFile {
                path: path.to_path_buf(),
                message: if path.is_dir() {
                    format!("the {role} file is a folder, not a file")
                } else {
                    format!("the {role} file does not exist")
                },
            }),
            None => Ok(()),
        }
    }
}

/// A pair left out because its SMILES did not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedMolecule {
    /// `train` or `test`.
    pub split: &'static str,
    /// The pairs table.
    pub table: PathBuf,
    /// Its line in the table.
    pub line: usize,
    /// The pair's id.
    pub id: String,
    /// The SMILES as written.
    pub smiles: String,
    /// The parser's message.
    pub reason: String,
}

/// A loaded dataset and the fingerprint of its contents.
#[derive(Debug, Clone)]
pub struct LoadedDataset {
    pub data: PairedData,
    /// 64-bit FNV-1a, as 16 hex digits: of every number of both splits (synthetic), or of the
    /// files' bytes and the skipped rows (datasets on disk).
    pub fingerprint: String,
    /// Pairs left out because their SMILES did not parse, in file order.
    pub skipped: Vec<SkippedMolecule>,
}

/// Generates or reads the dataset; with `strict`, an unparsable SMILES is an error.
pub fn load(spec: &DatasetSpec, strict: bool) -> Result<LoadedDataset, DatasetError> {
    match spec {
        DatasetSpec::Synthetic => {
            let data = synthetic_task(&SyntheticTaskConfig::default());
            let fingerprint = fingerprint(&data);
            Ok(LoadedDataset {
                data,
                fingerprint,
                skipped: Vec::new(),
            })
        }
        DatasetSpec::Files(manifest) => load_files(manifest, strict),
    }
}

/// FNV-1a over the splits' sizes and values: changes whenever any number changes.
pub fn fingerprint(data: &PairedData) -> String {
    let mut hash = Fnv1a::new();
    let feed_size = |hash: &mut Fnv1a, size: usize| hash.feed(&(size as u64).to_le_bytes());
    for split in [&data.train, &data.test] {
        match &split.items {
            ItemFeatures::Dense { values, dim } => {
                for size in [split.n, *dim, split.text_dim] {
                    feed_size(&mut hash, size);
                }
                for value in values {
                    hash.feed(&value.to_le_bytes());
                }
            }
            ItemFeatures::Graphs(graphs) => {
                for size in [split.n, 0, split.text_dim] {
                    feed_size(&mut hash, size);
                }
                for graph in graphs {
                    feed_graph(&mut hash, graph);
                }
            }
        }
        for value in &split.texts {
            hash.feed(&value.to_le_bytes());
        }
    }
    hash.hex()
}

fn feed_graph(hash: &mut Fnv1a, graph: &MolGraph) {
    hash.feed(&(graph.atoms.len() as u64).to_le_bytes());
    for a in &graph.atoms {
        hash.feed(&[
            a.atomic_number,
            a.chirality,
            a.degree,
            a.formal_charge as u8,
            a.total_hydrogens,
            a.radical_electrons,
            a.hybridization,
            u8::from(a.aromatic),
            u8::from(a.in_ring),
        ]);
    }
    hash.feed(&(graph.bonds.len() as u64).to_le_bytes());
    for b in &graph.bonds {
        hash.feed(&b.begin.to_le_bytes());
        hash.feed(&b.end.to_le_bytes());
        hash.feed(&[b.bond_type, b.stereo, u8::from(b.conjugated)]);
    }
}

/// The molecule of a SMILES from a table (the parser reads ChEBI-20's doubled `\\` bond
/// directions as single ones).
fn parse_molecule(smiles: &str) -> Result<MolGraph, String> {
    let graph = molecules::parse_smiles(smiles).map_err(|e| e.to_string())?;
    if graph.atoms.is_empty() {
        return Err("the SMILES has no atoms".into());
    }
    Ok(graph)
}

/// One split read from disk, before its molecules are parsed.
struct RawSplit<'a> {
    name: &'static str,
    files: &'a SplitFiles,
    rows: Vec<TableRow>,
    embeddings: NpyMatrix,
    /// The items file's vectors, when the manifest names one.
    items: Option<NpyMatrix>,
}

fn read_bytes(path: &Path) -> Result<Vec<u8>, DatasetError> {
    std::fs::read(path).map_err(|source| DatasetError::Io {
        path: path.to_path_buf(),
        source,
    })
}

fn read_split<'a>(
    name: &'static str,
    files: &'a SplitFiles,
    text_model: Option<&Path>,
    hash: &mut Fnv1a,
) -> Result<RawSplit<'a>, DatasetError> {
    let layout = if files.items.is_some() {
        TableLayout::Plain
    } else {
        TableLayout::Molecules
    };
    let table_bytes = read_bytes(&files.table)?;
    feed_file(hash, &table_bytes);
    let rows = parse_table(&files.table, &table_bytes, layout)
        .map_err(|(line, message)| DatasetError::at(&files.table, line, message))?;
    let embeddings = match &files.embeddings {
        Some(path) => {
            let embeddings = read_npy_rows(path, &files.table, &rows, "embedding", hash)?;
            check_rows(path, &files.table, &rows, &embeddings, true)?;
            embeddings
        }
        None => embed_descriptions(&files.table, &rows, text_model, hash)?,
    };
    let items = match &files.items {
        Some(path) => {
            let items = read_npy_rows(path, &files.table, &rows, "item", hash)?;
            // An all-zero item is a valid input vector; only a direction-less text row is not.
            check_rows(path, &files.table, &rows, &items, false)?;
            Some(items)
        }
        None => None,
    };
    Ok(RawSplit {
        name,
        files,
        rows,
        embeddings,
        items,
    })
}

/// The MiniLM embeddings of a table's descriptions (from the embedding cache when it holds
/// them), fed to the fingerprint.
fn embed_descriptions(
    table: &Path,
    rows: &[TableRow],
    text_model: Option<&Path>,
    hash: &mut Fnv1a,
) -> Result<NpyMatrix, DatasetError> {
    let texts: Vec<&str> = rows.iter().map(|row| row.description.as_str()).collect();
    let options = text_embeddings::EmbedOptions {
        model: text_model.map(Path::to_path_buf),
        ..text_embeddings::EmbedOptions::default()
    };
    let embedded = text_embeddings::embed(&texts, &options)
        .map_err(|e| DatasetError::at(table, 0, format!("cannot embed its descriptions: {e}")))?;
    eprintln!(
        "{}: {} descriptions embedded with all-MiniLM-L6-v2 {}",
        table.display(),
        texts.len(),
        match &embedded.cache_hit {
            Some(file) => format!("(from the cache, {})", file.display()),
            None => format!("in {:.1} s", embedded.seconds),
        }
    );
    for value in &embedded.values {
        hash.feed(&value.to_le_bytes());
    }
    Ok(NpyMatrix {
        rows: texts.len(),
        cols: models::minilm::EMBEDDING_DIM as usize,
        values: embedded.values,
    })
}

/// Where a split's description embeddings come from, for messages.
fn embeddings_source(files: &SplitFiles) -> String {
    match &files.embeddings {
        Some(path) => path.display().to_string(),
        None => format!("the MiniLM embeddings of {}", files.table.display()),
    }
}

/// The width of a split's item vectors and the file they come from, when it has an items file.
fn item_width<'a>(raw: &RawSplit<'a>) -> Option<(usize, &'a Path)> {
    raw.items
        .as_ref()
        .zip(raw.files.items.as_deref())
        .map(|(items, path)| (items.cols, path))
}

/// Feeds a file's length and bytes to the dataset fingerprint.
fn feed_file(hash: &mut Fnv1a, bytes: &[u8]) {
    hash.feed(&(bytes.len() as u64).to_le_bytes());
    hash.feed(bytes);
}

/// Reads a float32 matrix with one row per table row (`what` names its rows in messages).
fn read_npy_rows(
    path: &Path,
    table: &Path,
    rows: &[TableRow],
    what: &str,
    hash: &mut Fnv1a,
) -> Result<NpyMatrix, DatasetError> {
    let bytes = read_bytes(path)?;
    feed_file(hash, &bytes);
    let matrix =
        crate::npy::parse_npy(&bytes).map_err(|message| DatasetError::at(path, 0, message))?;
    if matrix.rows != rows.len() {
        return Err(DatasetError::at(
            path,
            0,
            format!(
                "has {} {what} rows, but {} has {} data rows (row i must {} table row i)",
                matrix.rows,
                table.display(),
                rows.len(),
                if what == "item" {
                    "be the item of"
                } else {
                    "embed the description of"
                }
            ),
        ));
    }
    if matrix.cols == 0 {
        return Err(DatasetError::at(path, 0, "has zero-width rows"));
    }
    Ok(matrix)
}

/// Refuses a row with a NaN or infinite value, and with `need_direction` an all-zero row, naming
/// the row, its id and its table line.
fn check_rows(
    path: &Path,
    table: &Path,
    rows: &[TableRow],
    matrix: &NpyMatrix,
    need_direction: bool,
) -> Result<(), DatasetError> {
    for (i, (row, values)) in rows
        .iter()
        .zip(matrix.values.chunks_exact(matrix.cols))
        .enumerate()
    {
        // An all-zero item is a valid input vector; a text embedding needs a direction.
        let Some(problem) = crate::npy::embedding_row_problem(values)
            .filter(|_| need_direction || values.iter().any(|v| !v.is_finite()))
        else {
            continue;
        };
        return Err(DatasetError::at(
            path,
            0,
            format!(
                "row {i} (id {}, {} line {}) {problem}",
                row.id,
                table.display(),
                row.line
            ),
        ));
    }
    Ok(())
}

/// Refuses an id that appears twice, in one split or across both.
fn check_unique_ids(splits: &[&RawSplit<'_>]) -> Result<(), DatasetError> {
    let mut seen: HashMap<&str, (&Path, usize)> = HashMap::new();
    for split in splits {
        for row in &split.rows {
            if let Some((path, line)) = seen.insert(&row.id, (&split.files.table, row.line)) {
                return Err(DatasetError::at(
                    &split.files.table,
                    row.line,
                    format!(
                        "id '{}' is used twice (first at {}:{line})",
                        row.id,
                        path.display()
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// The paired split: its item vectors as they are, or its molecules parsed (see
/// [`build_molecule_split`]).
fn build_split(
    raw: RawSplit<'_>,
    strict: bool,
    skipped: &mut Vec<SkippedMolecule>,
    hash: &mut Fnv1a,
) -> Result<PairedSplit, DatasetError> {
    match raw.items {
        Some(items) => Ok(PairedSplit {
            n: raw.rows.len(),
            items: ItemFeatures::Dense {
                values: items.values,
                dim: items.cols,
            },
            texts: raw.embeddings.values,
            text_dim: raw.embeddings.cols,
        }),
        None => build_molecule_split(&raw, strict, skipped, hash),
    }
}

/// Parses a split's molecules into a paired split; unparsable ones are skipped (listed in
/// `skipped`) or, with `strict`, an error.
fn build_molecule_split(
    raw: &RawSplit<'_>,
    strict: bool,
    skipped: &mut Vec<SkippedMolecule>,
    hash: &mut Fnv1a,
) -> Result<PairedSplit, DatasetError> {
    let dim = raw.embeddings.cols;
    let mut graphs = Vec::with_capacity(raw.rows.len());
    let mut texts = Vec::with_capacity(raw.embeddings.values.len());
    for (i, row) in raw.rows.iter().enumerate() {
        let smiles = row.smiles.as_deref().unwrap_or_default();
        match parse_molecule(smiles) {
            Ok(graph) => {
                graphs.push(graph);
                texts.extend_from_slice(&raw.embeddings.values[i * dim..(i + 1) * dim]);
            }
            Err(reason) if strict => {
                return Err(DatasetError::at(
                    &raw.files.table,
                    row.line,
                    format!(
                        "the SMILES of id {} does not parse: {reason} (without --strict the pair would be skipped)",
                        row.id
                    ),
                ));
            }
            Err(reason) => {
                // The fingerprint names the data trained on: which rows were left out counts.
                hash.feed(raw.name.as_bytes());
                hash.feed(&(i as u64).to_le_bytes());
                skipped.push(SkippedMolecule {
                    split: raw.name,
                    table: raw.files.table.clone(),
                    line: row.line,
                    id: row.id.clone(),
                    smiles: smiles.to_string(),
                    reason,
                });
            }
        }
    }
    if graphs.is_empty() {
        return Err(DatasetError::at(
            &raw.files.table,
            0,
            "has no pair left: no SMILES parsed",
        ));
    }
    Ok(PairedSplit {
        n: graphs.len(),
        items: ItemFeatures::Graphs(graphs),
        texts,
        text_dim: dim,
    })
}

fn load_files(manifest: &Manifest, strict: bool) -> Result<LoadedDataset, DatasetError> {
    let mut hash = Fnv1a::new();
    let text_model = manifest.text_model.as_deref();
    let train = read_split("train", &manifest.train, text_model, &mut hash)?;
    let test = read_split("test", &manifest.test, text_model, &mut hash)?;
    if test.embeddings.cols != train.embeddings.cols {
        let (path, subject) = match &manifest.test.embeddings {
            Some(path) => (path.as_path(), "has"),
            None => (manifest.test.table.as_path(), "its MiniLM embeddings have"),
        };
        return Err(DatasetError::at(
            path,
            0,
            format!(
                "{subject} {} values per row, but {} has {}",
                test.embeddings.cols,
                embeddings_source(&manifest.train),
                train.embeddings.cols
            ),
        ));
    }
    if let (Some((train_width, train_path)), Some((test_width, test_path))) =
        (item_width(&train), item_width(&test))
        && train_width != test_width
    {
        return Err(DatasetError::at(
            test_path,
            0,
            format!(
                "has {test_width} values per item, but {} has {train_width}",
                train_path.display()
            ),
        ));
    }
    check_unique_ids(&[&train, &test])?;
    let mut skipped = Vec::new();
    let data = PairedData {
        name: manifest.name.clone(),
        train: build_split(train, strict, &mut skipped, &mut hash)?,
        test: build_split(test, strict, &mut skipped, &mut hash)?,
    };
    Ok(LoadedDataset {
        data,
        fingerprint: hash.hex(),
        skipped,
    })
}

/// Name of the list of skipped molecules in a comparison's output folder.
pub const SKIPPED_FILE: &str = "skipped_molecules.csv";

/// Writes the skipped pairs (`split,table,line,id,smiles,reason`; a header only when none was
/// skipped) to [`SKIPPED_FILE`] in `folder`, and returns its path.
pub fn write_skipped(folder: &Path, skipped: &[SkippedMolecule]) -> anyhow::Result<PathBuf> {
    let path = folder.join(SKIPPED_FILE);
    let mut writer = csv::Writer::from_path(&path)?;
    writer.write_record(["split", "table", "line", "id", "smiles", "reason"])?;
    for s in skipped {
        writer.write_record([
            s.split,
            &s.table.display().to_string(),
            &s.line.to_string(),
            &s.id,
            &s.smiles,
            &s.reason,
        ])?;
    }
    writer.flush()?;
    Ok(path)
}

/// One line saying how many pairs were skipped and which, or `None` when none was.
pub fn skipped_summary(loaded: &LoadedDataset, list: &Path) -> Option<String> {
    if loaded.skipped.is_empty() {
        return None;
    }
    let count = |split| loaded.skipped.iter().filter(|s| s.split == split).count();
    const SHOWN: usize = 10;
    let mut ids: Vec<String> = loaded
        .skipped
        .iter()
        .take(SHOWN)
        .map(|s| format!("{} {}", s.split, s.id))
        .collect();
    if loaded.skipped.len() > SHOWN {
        ids.push(format!("and {} more", loaded.skipped.len() - SHOWN));
    }
    Some(format!(
        "warning: skipped {} pairs whose SMILES did not parse ({} train, {} test): {}; listed with reasons in {}",
        loaded.skipped.len(),
        count("train"),
        count("test"),
        ids.join(", "),
        list.display()
    ))
}

#[cfg(test)]
mod tests;
