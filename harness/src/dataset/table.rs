//! The pairs table of a split: a header line, then one `id, SMILES, description` row per pair.
//!
//! `.tsv` (or `.txt`) files are split on tabs only, with no quote handling (descriptions contain
//! quotes); `.csv` files are read as RFC 4180 CSV (fields with commas or quotes are quoted).

use std::path::Path;

/// One data row of a pairs table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableRow {
    /// 1-based line of the file where the row starts (the header is line 1).
    pub line: usize,
    /// The pair's id (unique over both splits).
    pub id: String,
    /// The molecule.
    pub smiles: String,
    /// The description (its embedding is in the `.npy` file; the text itself is not used).
    pub description: String,
}

/// Why a table could not be read: the 1-based line (0 when it concerns the whole file) and what
/// is wrong.
pub type TableError = (usize, String);

const COLUMNS: [&str; 3] = ["id", "SMILES", "description"];

/// Parses a table's bytes, choosing TSV or CSV by the file's extension.
pub fn parse_table(path: &Path, bytes: &[u8]) -> Result<Vec<TableRow>, TableError> {
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let line = 1 + bytes[..e.valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        (line, "is not valid UTF-8".to_string())
    })?;
    let rows = match extension.as_deref() {
        Some("tsv" | "txt" | "tab") => parse_tsv(text)?,
        Some("csv") => parse_csv(text)?,
        _ => {
            return Err((
                0,
                "has an unknown table format: name it .tsv (tab-separated) or .csv".into(),
            ));
        }
    };
    if rows.is_empty() {
        return Err((0, "has a header but no data rows".into()));
    }
    Ok(rows)
}

/// Checks a row's fields and builds it.
fn row(line: usize, fields: &[&str], separator: &str) -> Result<TableRow, TableError> {
    if fields.len() != 3 {
        return Err((
            line,
            format!(
                "expected 3 {separator}-separated fields (id, SMILES, description), found {}",
                fields.len()
            ),
        ));
    }
    if let Some(column) = (0..3).find(|&c| fields[c].trim().is_empty()) {
        return Err((line, format!("the {} field is empty", COLUMNS[column])));
    }
    Ok(TableRow {
        line,
        id: fields[0].to_string(),
        smiles: fields[1].to_string(),
        description: fields[2].to_string(),
    })
}

fn parse_tsv(text: &str) -> Result<Vec<TableRow>, TableError> {
    let mut lines = text
        .split_terminator('\n')
        .map(|line| line.strip_suffix('\r').unwrap_or(line))
        .enumerate()
        .map(|(i, line)| (i + 1, line));
    let Some((_, header)) = lines.next() else {
        return Err((0, "is empty (it needs a header line and data rows)".into()));
    };
    let header_fields = header.split('\t').count();
    if header_fields != 3 {
        return Err((
            1,
            format!(
                "the header has {header_fields} tab-separated fields; expected 3 (e.g. CID, SMILES, description)"
            ),
        ));
    }
    lines
        .map(|(line, text)| row(line, &text.split('\t').collect::<Vec<_>>(), "tab"))
        .collect()
}

fn parse_csv(text: &str) -> Result<Vec<TableRow>, TableError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(text.as_bytes());
    let header_fields = reader
        .headers()
        .map_err(|e| (1, format!("the header is not valid CSV: {e}")))?
        .len();
    if header_fields == 0 {
        return Err((0, "is empty (it needs a header line and data rows)".into()));
    }
    if header_fields != 3 {
        return Err((
            1,
            format!(
                "the header has {header_fields} comma-separated fields; expected 3 (e.g. CID, SMILES, description)"
            ),
        ));
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line() as usize);
            (line, format!("is not valid CSV: {e}"))
        })?;
        let line = record.position().map_or(0, |p| p.line() as usize);
        rows.push(row(line, &record.iter().collect::<Vec<_>>(), "comma")?);
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tsv(text: &str) -> Result<Vec<TableRow>, TableError> {
        parse_table(Path::new("pairs.tsv"), text.as_bytes())
    }

    #[test]
    fn tsv_rows_keep_quotes_and_line_numbers() {
        let rows = tsv("CID\tSMILES\tdescription\n1\tCCO\tThe molecule is \"ethanol\", it's small.\r\n2\tC\\\\C=C\tx\n").unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(
            rows[0].description,
            "The molecule is \"ethanol\", it's small."
        );
        assert_eq!(
            (rows[1].line, rows[1].id.as_str(), rows[1].smiles.as_str()),
            (3, "2", "C\\\\C=C")
        );
    }

    #[test]
    fn tsv_errors_name_the_line() {
        let cases = [
            ("", (0, "is empty")),
            ("id\tsmiles\n", (1, "the header has 2 tab-separated fields")),
            (
                "id\tsmiles\tdescription\n",
                (0, "has a header but no data rows"),
            ),
            (
                "a\tb\tc\n1\tC\tx\n2\tC\n",
                (
                    3,
                    "expected 3 tab-separated fields (id, SMILES, description), found 2",
                ),
            ),
            ("a\tb\tc\n1\tC\tx\tmore\n", (2, "found 4")),
            ("a\tb\tc\n1\tC\tx\n\n", (3, "found 1")),
            ("a\tb\tc\n1\t\tx\n", (2, "the SMILES field is empty")),
        ];
        for (text, (line, message)) in cases {
            let (got_line, got) = tsv(text).unwrap_err();
            assert_eq!(got_line, line, "{text:?}: {got}");
            assert!(got.contains(message), "{text:?}: {got}");
        }
        let (line, message) =
            parse_table(Path::new("x.tsv"), b"a\tb\tc\n1\tC\t\xff\n").unwrap_err();
        assert_eq!((line, message.as_str()), (2, "is not valid UTF-8"));
    }

    #[test]
    fn csv_handles_quoted_fields() {
        let text = "id,smiles,description\n7,CCO,\"The molecule is \"\"ethanol\"\", a, b.\"\n8,C,\"two\nlines\"\n9,N\n";
        let (line, message) = parse_table(Path::new("pairs.CSV"), text.as_bytes()).unwrap_err();
        assert_eq!(line, 5, "{message}");
        let text = &text[..text.len() - "9,N\n".len()];
        let rows = parse_table(Path::new("pairs.csv"), text.as_bytes()).unwrap();
        assert_eq!(rows[0].description, "The molecule is \"ethanol\", a, b.");
        assert_eq!(
            (rows[1].line, rows[1].description.as_str()),
            (3, "two\nlines")
        );
    }

    #[test]
    fn unknown_extensions_are_refused() {
        let (_, message) = parse_table(Path::new("pairs.xlsx"), b"a\tb\tc\n").unwrap_err();
        assert!(message.contains("unknown table format"));
    }
}
