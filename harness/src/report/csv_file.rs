//! CSV tables defined by their columns and written atomically (temporary file + rename), so a
//! reader or an interrupted run never sees a half-written file.

use std::borrow::Borrow;
use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// The columns of one CSV file: each a name and how its cell is computed from an item `T` of a
/// row and the facts `C` that the rows of one append share. A file's header and its rows come
/// from this one list, so they cannot disagree.
pub struct Columns<T, C = ()> {
    columns: Vec<(String, Cell<T, C>)>,
}

type Cell<T, C> = Box<dyn Fn(&T, &C) -> String>;

impl<T: 'static, C: 'static> Columns<T, C> {
    /// No columns yet.
    pub fn new() -> Self {
        Columns {
            columns: Vec::new(),
        }
    }

    /// A column of any displayable value.
    pub fn text<V: ToString>(
        mut self,
        name: impl Into<String>,
        cell: impl Fn(&T, &C) -> V + 'static,
    ) -> Self {
        self.columns.push((
            name.into(),
            Box::new(move |item, shared| cell(item, shared).to_string()),
        ));
        self
    }

    /// A column of numbers at full precision.
    pub fn number(self, name: impl Into<String>, cell: impl Fn(&T, &C) -> f64 + 'static) -> Self {
        self.text(name, cell)
    }

    /// A column of numbers, with an empty cell where a value is absent.
    pub fn optional(
        self,
        name: impl Into<String>,
        cell: impl Fn(&T, &C) -> Option<f64> + 'static,
    ) -> Self {
        self.text(name, move |item, shared| number(cell(item, shared)))
    }

    /// The header: every column's name, in order.
    pub fn header(&self) -> Vec<String> {
        self.columns.iter().map(|(name, _)| name.clone()).collect()
    }

    /// The cells of one row.
    pub fn row(&self, item: &T, shared: &C) -> Vec<String> {
        self.columns
            .iter()
            .map(|(_, cell)| cell(item, shared))
            .collect()
    }
}

impl<T: 'static, C: 'static> Default for Columns<T, C> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T, C> fmt::Debug for Columns<T, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.columns.iter().map(|(name, _)| name))
            .finish()
    }
}

/// A CSV file under construction: its header is written when it is created, and every append
/// rewrites the file with the rows so far.
#[derive(Debug)]
pub struct CsvTable<T, C = ()> {
    path: PathBuf,
    columns: Columns<T, C>,
    rows: Vec<Vec<String>>,
}

impl<T: 'static, C: 'static> CsvTable<T, C> {
    /// Creates `path` holding only the header of `columns`, failing early on an unwritable
    /// location.
    pub fn create(path: PathBuf, columns: Columns<T, C>) -> Result<Self> {
        let table = CsvTable {
            path,
            columns,
            rows: Vec::new(),
        };
        table.flush()?;
        Ok(table)
    }

    /// Adds a row per item, all sharing `shared`, and rewrites the file.
    pub fn append<I>(&mut self, shared: &C, items: I) -> Result<()>
    where
        I: IntoIterator,
        I::Item: Borrow<T>,
    {
        for item in items {
            self.rows.push(self.columns.row(item.borrow(), shared));
        }
        self.flush()
    }

    fn flush(&self) -> Result<()> {
        let mut writer = csv::Writer::from_writer(Vec::new());
        writer.write_record(self.columns.header())?;
        for row in &self.rows {
            writer.write_record(row)?;
        }
        let bytes = writer.into_inner().context("finishing CSV text")?;
        write_atomically(&self.path, &bytes)
    }
}

/// Replaces `path` with `bytes` in one step.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let file_name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("report");
    let temporary = path.with_file_name(format!(".{file_name}.partial"));
    std::fs::write(&temporary, bytes)
        .with_context(|| format!("writing {}", temporary.display()))?;
    std::fs::rename(&temporary, path).with_context(|| format!("replacing {}", path.display()))
}

/// Full-precision text of a number (Rust's shortest round-trip form); empty when absent.
pub fn number(value: Option<f64>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}
