//! CSV tables written atomically (temporary file + rename), so a reader or an interrupted run
//! never sees a half-written file.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// An ordered record: column names with already formatted values.
pub type Row = Vec<(String, String)>;

/// A CSV file under construction whose header is fixed when it is created.
#[derive(Debug)]
pub struct CsvTable {
    path: PathBuf,
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl CsvTable {
    /// Creates `path` holding only `header`, failing early on an unwritable location.
    pub fn create(path: PathBuf, header: Vec<String>) -> Result<Self> {
        let table = CsvTable {
            path,
            header,
            rows: Vec::new(),
        };
        table.flush()?;
        Ok(table)
    }

    /// Adds rows and rewrites the file; each row must have exactly the header's columns.
    pub fn append(&mut self, rows: impl IntoIterator<Item = Row>) -> Result<()> {
        for row in rows {
            let names: Vec<&String> = row.iter().map(|(name, _)| name).collect();
            assert!(
                names.iter().copied().eq(&self.header),
                "row columns must match the header of {}",
                self.path.display()
            );
            self.rows
                .push(row.into_iter().map(|(_, value)| value).collect());
        }
        self.flush()
    }

    fn flush(&self) -> Result<()> {
        let mut writer = csv::Writer::from_writer(Vec::new());
        writer.write_record(&self.header)?;
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

/// Appends named cells to a row.
#[derive(Debug, Default)]
pub struct RowBuilder(Row);

impl RowBuilder {
    /// A cell from any displayable value.
    pub fn text(mut self, name: &str, value: impl ToString) -> Self {
        self.0.push((name.to_string(), value.to_string()));
        self
    }

    /// A number at full precision.
    pub fn number(self, name: &str, value: f64) -> Self {
        self.text(name, value)
    }

    /// A number, or an empty cell when absent.
    pub fn optional(self, name: &str, value: Option<f64>) -> Self {
        self.text(name, number(value))
    }

    /// The finished row.
    pub fn build(self) -> Row {
        self.0
    }
}
