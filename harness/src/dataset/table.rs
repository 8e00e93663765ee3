//! The pairs table of a split: a header line, then one row per pair: `id, SMILES, description`
//! for molecule datasets, `id, description` when the items are vectors from an `.npy` file.
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
    /// The molecule (`None` in a table of the [`TableLayout::Plain`] layout).
    pub smiles: Option<String>,
    /// The description (embedded by the `.npy` file of the split, or by MiniLM when it has none).
    pub description: String,
}

/// Which columns a table holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableLayout {
    /// `id, SMILES, description`: the items are molecules.
    Molecules,
    /// `id, description`: the items are vectors from the split's items file.
    Plain,
}

impl TableLayout {
    /// The columns, in order.
    fn columns(self) -> &'static [&'static str] {
        match self {
            TableLayout::Molecules => &["id", "SMILES", "description"],
            TableLayout::Plain => &["id", "description"],
        }
    }

    /// The columns as a header example for messages, e.g. `CID, SMILES, description`.
    fn example(self) -> &'static str {
        match self {
            TableLayout::Molecules => "e.g. CID, SMILES, description",
            TableLayout::Plain => "id, description: the items come from the split's items file",
        }
    }
}

/// Why a table could not be read: the 1-based line (0 when it concerns the whole file) and what
/// is wrong.
pub type TableError = (usize, String);

/// Parses a table's bytes in `layout`, choosing TSV or CSV by the file's extension.
pub fn parse_table(
    path: &Path,
    bytes: &[u8],
    layout: TableLayout,
) -> Result<Vec<TableRow>, TableError> {
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
        Some("tsv" | "txt" | "tab") => parse_tsv(text, layout)?,
        Some("csv") => parse_csv(text, layout)?,
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

/// The layout a table's header announces: two fields are `id, description`, anything else is
/// read as `id, SMILES, description` (and refused by [`parse_table`] unless it has three).
pub fn detect_layout(path: &Path, bytes: &[u8]) -> TableLayout {
    let header = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
    let is_csv = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    let fields = if is_csv {
        csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(header)
            .records()
            .next()
            .and_then(Result::ok)
            .map_or(0, |record| record.len())
    } else {
        header.split(|&b| b == b'\t').count()
    };
    if fields == TableLayout::Plain.columns().len() {
        TableLayout::Plain
    } else {
        TableLayout::Molecules
    }
}

/// Checks a row's fields and builds it.
fn row(
    line: usize,
    fields: &[&str],
    separator: &str,
    layout: TableLayout,
) -> Result<TableRow, TableError> {
    let columns = layout.columns();
    if fields.len() != columns.len() {
        return Err((
            line,
            format!(
                "expected {} {separator}-separated fields ({}), found {}",
                columns.len(),
                columns.join(", "),
                fields.len()
            ),
        ));
    }
    if let Some(column) = (0..columns.len()).find(|&c| fields[c].trim().is_empty()) {
        return Err((line, format!("the {} field is empty", columns[column])));
    }
    Ok(TableRow {
        line,
        id: fields[0].to_string(),
        smiles: (layout == TableLayout::Molecules).then(|| fields[1].to_string()),
        description: fields[columns.len() - 1].to_string(),
    })
}

/// The header's field count checked against the layout.
fn check_header(found: usize, separator: &str, layout: TableLayout) -> Result<(), TableError> {
    let expected = layout.columns().len();
    if found == expected {
        return Ok(());
    }
    Err((
        1,
        format!(
            "the header has {found} {separator}-separated fields; expected {expected} ({})",
            layout.example()
        ),
    ))
}

fn parse_tsv(text: &str, layout: TableLayout) -> Result<Vec<TableRow>, TableError> {
    let mut lines = text
        .split_terminator('\n')
        .map(|line| line.strip_suffix('\r').unwrap_or(line))
        .enumerate()
        .map(|(i, line)| (i + 1, line));
    let Some((_, header)) = lines.next() else {
        return Err((0, "is empty (it needs a header line and data rows)".into()));
    };
    check_header(header.split('\t').count(), "tab", layout)?;
    lines
        .map(|(line, text)| row(line, &text.split('\t').collect::<Vec<_>>(), "tab", layout))
        .collect()
}

fn parse_csv(text: &str, layout: TableLayout) -> Result<Vec<TableRow>, TableError> {
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
    check_header(header_fields, "comma", layout)?;
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line() as usize);
            (line, format!("is not valid CSV: {e}"))
        })?;
        let line = record.position().map_or(0, |p| p.line() as usize);
        rows.push(row(
            line,
            &record.iter().collect::<Vec<_>>(),
            "comma",
            layout,
        )?);
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tsv(text: &str) -> Result<Vec<TableRow>, TableError> {
        parse_table(
            Path::new("pairs.tsv"),
            text.as_bytes(),
            TableLayout::Molecules,
        )
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
            (rows[1].line, rows[1].id.as_str(), rows[1].smiles.as_deref()),
            (3, "2", Some("C\\\\C=C"))
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
        let (line, message) = parse_table(
            Path::new("x.tsv"),
            b"a\tb\tc\n1\tC\t\xff\n",
            TableLayout::Molecules,
        )
        .unwrap_err();
        assert_eq!((line, message.as_str()), (2, "is not valid UTF-8"));
    }

    #[test]
    fn csv_handles_quoted_fields() {
        let text = "id,smiles,description\n7,CCO,\"The molecule is \"\"ethanol\"\", a, b.\"\n8,C,\"two\nlines\"\n9,N\n";
        let (line, message) = parse_table(
            Path::new("pairs.CSV"),
            text.as_bytes(),
            TableLayout::Molecules,
        )
        .unwrap_err();
        assert_eq!(line, 5, "{message}");
        let text = &text[..text.len() - "9,N\n".len()];
        let rows = parse_table(
            Path::new("pairs.csv"),
            text.as_bytes(),
            TableLayout::Molecules,
        )
        .unwrap();
        assert_eq!(rows[0].description, "The molecule is \"ethanol\", a, b.");
        assert_eq!(
            (rows[1].line, rows[1].description.as_str()),
            (3, "two\nlines")
        );
    }

    #[test]
    fn plain_tables_hold_id_and_description() {
        let plain =
            |text: &str| parse_table(Path::new("p.tsv"), text.as_bytes(), TableLayout::Plain);
        let rows = plain("id\tdescription\na\tA red \"apple\".\nb\tA pear.\n").unwrap();
        assert_eq!(
            (rows[0].smiles.as_deref(), rows[0].description.as_str()),
            (None, "A red \"apple\".")
        );
        assert_eq!(
            plain("id\tSMILES\tdescription\n").unwrap_err(),
            (
                1,
                "the header has 3 tab-separated fields; expected 2 (id, description: the items come from the split's items file)".into()
            )
        );
        assert_eq!(
            plain("id\tdescription\na\t \n").unwrap_err(),
            (2, "the description field is empty".into())
        );
    }

    #[test]
    fn layouts_are_detected_from_the_header() {
        let detect = |name: &str, text: &str| detect_layout(Path::new(name), text.as_bytes());
        assert_eq!(
            detect("a.tsv", "id\tdescription\n1\tx\n"),
            TableLayout::Plain
        );
        assert_eq!(
            detect("a.tsv", "CID\tSMILES\tdescription\n"),
            TableLayout::Molecules
        );
        assert_eq!(
            detect("a.csv", "\"id, name\",description\n"),
            TableLayout::Plain
        );
        assert_eq!(
            detect("a.csv", "id,smiles,description"),
            TableLayout::Molecules
        );
    }

    #[test]
    fn unknown_extensions_are_refused() {
        let (_, message) =
            parse_table(Path::new("pairs.xlsx"), b"a\tb\tc\n", TableLayout::Plain).unwrap_err();
        assert!(message.contains("unknown table format"));
    }
}
