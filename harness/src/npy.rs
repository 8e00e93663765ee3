//! NumPy `.npy` files holding one C-order matrix: a strict reader of float32 matrices (the
//! format `numpy.save` writes for `arr.astype(np.float32)` of shape `(rows, dim)`) and writers of
//! float32 and uint32 matrices. Datasets, the `knn` command and the benches all use this one.
//!
//! Layout: the magic `\x93NUMPY`, a version (1.0: 2-byte header length; 2.0 and 3.0: 4-byte),
//! a Python-literal dict `{'descr': '<f4', 'fortran_order': False, 'shape': (rows, dim), }`
//! padded with spaces and ended by a newline, then the raw little-endian values.

use std::path::Path;

use anyhow::{Context, bail};

/// A row-major float32 matrix read from an `.npy` file.
#[derive(Debug, Clone, PartialEq)]
pub struct NpyMatrix {
    /// Number of rows (the first axis).
    pub rows: usize,
    /// Values per row (the second axis).
    pub cols: usize,
    /// `rows x cols` values, row after row.
    pub values: Vec<f32>,
}

/// The header fields this reader needs.
#[derive(Debug, Clone, PartialEq)]
struct Header {
    descr: String,
    fortran_order: bool,
    shape: Vec<usize>,
}

const MAGIC: &[u8] = b"\x93NUMPY";

/// Reads a float32 matrix file, naming the file in errors.
pub fn read_matrix(path: &Path) -> anyhow::Result<NpyMatrix> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    parse_npy(&bytes).map_err(|reason| anyhow::anyhow!("{}: {reason}", path.display()))
}

/// Reads several files with the same column count and stacks their rows; a row that cannot be
/// an embedding (NaN, infinite, all zeros) is an error naming its file and row.
pub fn read_stacked(paths: &[&Path]) -> anyhow::Result<NpyMatrix> {
    let mut stacked: Option<NpyMatrix> = None;
    for path in paths {
        let next = read_matrix(path)?;
        if let Some((row, problem)) = next
            .values
            .chunks_exact(next.cols.max(1))
            .enumerate()
            .find_map(|(row, values)| embedding_row_problem(values).map(|p| (row, p)))
        {
            bail!("{}: row {row} {problem}", path.display());
        }
        stacked = Some(match stacked {
            None => next,
            Some(mut acc) => {
                if acc.cols != next.cols {
                    bail!(
                        "{} has {} columns, the files before it {}",
                        path.display(),
                        next.cols,
                        acc.cols
                    );
                }
                acc.rows += next.rows;
                acc.values.extend(next.values);
                acc
            }
        });
    }
    stacked.context("no .npy files given")
}

/// What makes a row unusable as an embedding (cosine needs a finite, non-zero vector), if
/// anything.
pub fn embedding_row_problem(values: &[f32]) -> Option<&'static str> {
    if values.iter().any(|v| !v.is_finite()) {
        Some("has a NaN or infinite value")
    } else if values
        .iter()
        .map(|&v| f64::from(v) * f64::from(v))
        .sum::<f64>()
        == 0.0
    {
        Some("is all zeros (it has no direction)")
    } else {
        None
    }
}

/// Writes a `rows x cols` float32 matrix as `numpy.save` would.
pub fn write_f32(path: &Path, rows: usize, cols: usize, values: &[f32]) -> anyhow::Result<()> {
    let data: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    write_matrix(path, "<f4", rows, cols, &data)
}

/// Writes a `rows x cols` uint32 matrix as `numpy.save` would.
pub fn write_u32(path: &Path, rows: usize, cols: usize, values: &[u32]) -> anyhow::Result<()> {
    let data: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    write_matrix(path, "<u4", rows, cols, &data)
}

fn write_matrix(
    path: &Path,
    descr: &str,
    rows: usize,
    cols: usize,
    data: &[u8],
) -> anyhow::Result<()> {
    let header =
        format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': ({rows}, {cols}), }}");
    std::fs::write(path, npy_bytes(&header, data))
        .with_context(|| format!("writing {}", path.display()))
}

/// Parses a whole `.npy` file; the error says what is wrong and how to write a readable file.
pub fn parse_npy(bytes: &[u8]) -> Result<NpyMatrix, String> {
    if !bytes.starts_with(MAGIC) {
        return Err("not an .npy file (it does not start with \\x93NUMPY)".into());
    }
    let (major, minor) = match bytes.get(6..8) {
        Some(&[major, minor]) => (major, minor),
        _ => return Err("truncated before the format version".into()),
    };
    let (length_bytes, utf8) = match major {
        1 => (2, false),
        2 => (4, false),
        3 => (4, true),
        _ => return Err(format!("unsupported .npy format version {major}.{minor}")),
    };
    let start = 8 + length_bytes;
    let length = match bytes.get(8..start) {
        Some(&[a, b]) => usize::from(u16::from_le_bytes([a, b])),
        Some(&[a, b, c, d]) => u32::from_le_bytes([a, b, c, d]) as usize,
        _ => return Err("truncated before the header length".into()),
    };
    let header = bytes
        .get(start..start + length)
        .ok_or_else(|| format!("truncated header: it should be {length} bytes"))?;
    if !utf8 && !header.is_ascii() {
        return Err("the header is not ASCII".into());
    }
    let header = std::str::from_utf8(header).map_err(|_| "the header is not UTF-8".to_string())?;
    let header = parse_header(header)?;
    match header.descr.as_str() {
        "<f4" => {}
        ">f4" => {
            return Err(
                "dtype '>f4' is big-endian float32; save little-endian float32: arr.astype('<f4')"
                    .into(),
            );
        }
        other => {
            return Err(format!(
                "dtype '{other}' is not float32; save arr.astype(np.float32)"
            ));
        }
    }
    if header.fortran_order {
        return Err("the array is in Fortran order; save np.ascontiguousarray(arr)".into());
    }
    let [rows, cols] = header.shape[..] else {
        return Err(format!("shape {:?} is not 2-D (rows, dim)", header.shape));
    };
    let data = &bytes[start + length..];
    let expected = rows
        .checked_mul(cols)
        .and_then(|n| n.checked_mul(4))
        .ok_or_else(|| format!("shape ({rows}, {cols}) is too large"))?;
    if data.len() != expected {
        return Err(format!(
            "shape ({rows}, {cols}) needs {expected} bytes of float32 data, the file has {}",
            data.len()
        ));
    }
    let values = data
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    Ok(NpyMatrix { rows, cols, values })
}

/// Parses the header dict: exactly the keys `descr` (a string), `fortran_order` (True/False)
/// and `shape` (a tuple of integers), in any order, with an optional trailing comma.
fn parse_header(text: &str) -> Result<Header, String> {
    let mut parser = Parser {
        text: text.trim_end_matches(['\n', ' ', '\0']),
        at: 0,
    };
    let mut descr = None;
    let mut fortran_order = None;
    let mut shape = None;
    parser.expect('{')?;
    loop {
        if parser.eat('}') {
            break;
        }
        let key = parser.string()?;
        parser.expect(':')?;
        match key.as_str() {
            "descr" if descr.is_none() => descr = Some(parser.string()?),
            "fortran_order" if fortran_order.is_none() => fortran_order = Some(parser.boolean()?),
            "shape" if shape.is_none() => shape = Some(parser.tuple()?),
            "descr" | "fortran_order" | "shape" => {
                return Err(format!("header key '{key}' repeats"));
            }
            other => return Err(format!("unexpected header key '{other}'")),
        }
        if !parser.eat(',') {
            parser.expect('}')?;
            break;
        }
    }
    if !parser.rest().is_empty() {
        return Err(format!(
            "unexpected text after the header dict: {:?}",
            parser.rest()
        ));
    }
    let missing = |key: &str| format!("the header has no '{key}'");
    Ok(Header {
        descr: descr.ok_or_else(|| missing("descr"))?,
        fortran_order: fortran_order.ok_or_else(|| missing("fortran_order"))?,
        shape: shape.ok_or_else(|| missing("shape"))?,
    })
}

/// Cursor over the header text; every method skips leading spaces.
struct Parser<'a> {
    text: &'a str,
    at: usize,
}

impl Parser<'_> {
    fn rest(&mut self) -> &str {
        self.at += self.text[self.at..].len() - self.text[self.at..].trim_start().len();
        &self.text[self.at..]
    }

    fn eat(&mut self, c: char) -> bool {
        let found = self.rest().starts_with(c);
        if found {
            self.at += c.len_utf8();
        }
        found
    }

    fn expect(&mut self, c: char) -> Result<(), String> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(format!(
                "malformed header: expected '{c}' at byte {} of {:?}",
                self.at, self.text
            ))
        }
    }

    /// A quoted string without escapes ('...' or "...").
    fn string(&mut self) -> Result<String, String> {
        let rest = self.rest();
        let quote = match rest.chars().next() {
            Some(q @ ('\'' | '"')) => q,
            _ => {
                return Err(format!(
                    "malformed header: expected a quoted string at {rest:?}"
                ));
            }
        };
        let end = rest[1..]
            .find(quote)
            .ok_or_else(|| format!("malformed header: unterminated string at {rest:?}"))?;
        let value = rest[1..1 + end].to_string();
        self.at += end + 2;
        Ok(value)
    }

    fn boolean(&mut self) -> Result<bool, String> {
        for (word, value) in [("True", true), ("False", false)] {
            if self.rest().starts_with(word) {
                self.at += word.len();
                return Ok(value);
            }
        }
        Err(format!(
            "malformed header: expected True or False at {:?}",
            self.rest()
        ))
    }

    /// `(a, b)`, `(a,)` or `()` of non-negative integers.
    fn tuple(&mut self) -> Result<Vec<usize>, String> {
        self.expect('(')?;
        let mut values = Vec::new();
        loop {
            if self.eat(')') {
                return Ok(values);
            }
            let digits: String = self
                .rest()
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            let value = digits.parse::<usize>().map_err(|_| {
                format!(
                    "malformed header: expected a dimension at {:?}",
                    self.rest()
                )
            })?;
            self.at += digits.len();
            values.push(value);
            if !self.eat(',') {
                self.expect(')')?;
                return Ok(values);
            }
        }
    }
}

/// An `.npy` file as `numpy.save` writes it (version 1.0) with this header dict and data.
pub(crate) fn npy_bytes(header_dict: &str, data: &[u8]) -> Vec<u8> {
    let mut header = header_dict.to_string();
    // numpy pads so that the data starts on a 64-byte boundary, and ends the header in '\n'.
    while !(10 + header.len() + 1).is_multiple_of(64) {
        header.push(' ');
    }
    header.push('\n');
    let mut bytes = MAGIC.to_vec();
    bytes.extend([1, 0]);
    bytes.extend((header.len() as u16).to_le_bytes());
    bytes.extend(header.as_bytes());
    bytes.extend(data);
    bytes
}

/// The bytes of `numpy.save(path, matrix.astype(np.float32))` for a `rows x cols` matrix.
#[cfg(test)]
pub(crate) fn f32_npy(values: &[f32], rows: usize, cols: usize) -> Vec<u8> {
    let data: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    npy_bytes(
        &format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({rows}, {cols}), }}"),
        &data,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matrix_bytes() -> Vec<u8> {
        [1.0f32, -2.5, 3.0, 0.25, 5.0, 6.0]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect()
    }

    #[test]
    fn stacked_rows_must_be_usable_embeddings() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good.npy");
        write_f32(&good, 2, 2, &[1.0, 0.0, 0.0, 1.0]).unwrap();
        for (name, values, problem) in [
            (
                "nan.npy",
                [1.0, 0.0, f32::NAN, 1.0],
                "row 1 has a NaN or infinite value",
            ),
            (
                "zero.npy",
                [0.0, 0.0, 1.0, 1.0],
                "row 0 is all zeros (it has no direction)",
            ),
        ] {
            let bad = dir.path().join(name);
            write_f32(&bad, 2, 2, &values).unwrap();
            let error = read_stacked(&[&good, &bad]).unwrap_err().to_string();
            assert_eq!(error, format!("{}: {problem}", bad.display()));
        }
    }

    fn error(header: &str, data: &[u8]) -> String {
        parse_npy(&npy_bytes(header, data)).unwrap_err()
    }

    #[test]
    fn files_round_trip_and_stack() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.npy");
        let values: Vec<f32> = (0..12).map(|v| v as f32 * 0.5 - 1.0).collect();
        write_f32(&path, 3, 4, &values).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!((bytes.len() - 12 * 4) % 64, 0, "data starts 64-aligned");
        let read = read_matrix(&path).unwrap();
        assert_eq!(
            (read.rows, read.cols, read.values.clone()),
            (3, 4, values.clone())
        );
        let stacked = read_stacked(&[&path, &path]).unwrap();
        assert_eq!((stacked.rows, stacked.values.len()), (6, 24));
        let table = dir.path().join("t.npy");
        write_u32(&table, 2, 2, &[1, 2, 3, 4]).unwrap();
        let error = read_matrix(&table).unwrap_err().to_string();
        assert!(
            error.contains("t.npy") && error.contains("'<u4' is not float32"),
            "{error}"
        );
    }

    #[test]
    fn reads_what_numpy_writes() {
        let matrix = parse_npy(&f32_npy(&[1.0, -2.5, 3.0, 0.25, 5.0, 6.0], 2, 3)).unwrap();
        assert_eq!((matrix.rows, matrix.cols), (2, 3));
        assert_eq!(matrix.values, [1.0, -2.5, 3.0, 0.25, 5.0, 6.0]);
        // Key order, quotes, spacing and the trailing comma are free.
        let loose = npy_bytes(
            "{\"shape\":(3,2),'fortran_order':False,\"descr\":\"<f4\"}",
            &matrix_bytes(),
        );
        assert_eq!(parse_npy(&loose).unwrap().rows, 3);
    }

    #[test]
    fn version_2_headers_have_a_four_byte_length() {
        let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2), }\n";
        let mut bytes = MAGIC.to_vec();
        bytes.extend([2, 0]);
        bytes.extend((header.len() as u32).to_le_bytes());
        bytes.extend(header.as_bytes());
        bytes.extend(&matrix_bytes()[..8]);
        assert_eq!(parse_npy(&bytes).unwrap().values, [1.0, -2.5]);
    }

    #[test]
    fn wrong_dtypes_and_layouts_are_named() {
        let cases = [
            (
                "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 1), }",
                "dtype '<f8' is not float32; save arr.astype(np.float32)",
            ),
            (
                "{'descr': '>f4', 'fortran_order': False, 'shape': (2, 3), }",
                "dtype '>f4' is big-endian float32; save little-endian float32: arr.astype('<f4')",
            ),
            (
                "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }",
                "the array is in Fortran order; save np.ascontiguousarray(arr)",
            ),
            (
                "{'descr': '<f4', 'fortran_order': False, 'shape': (6,), }",
                "shape [6] is not 2-D (rows, dim)",
            ),
            (
                "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 4), }",
                "shape (2, 4) needs 32 bytes of float32 data, the file has 24",
            ),
            (
                "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3), }",
                "shape (1, 3) needs 12 bytes of float32 data, the file has 24",
            ),
        ];
        for (header, expected) in cases {
            assert_eq!(error(header, &matrix_bytes()), expected, "{header}");
        }
    }

    #[test]
    fn malformed_headers_are_errors() {
        let cases = [
            (
                "{'descr': '<f4', 'shape': (2, 3), }",
                "the header has no 'fortran_order'",
            ),
            (
                "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'extra': 1}",
                "unexpected header key 'extra'",
            ),
            (
                "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)}",
                "header key 'descr' repeats",
            ),
            (
                "{'descr': '<f4', 'fortran_order': No, 'shape': (2, 3)}",
                "expected True or False",
            ),
            (
                "{'descr': '<f4', 'fortran_order': False, 'shape': (2, x)}",
                "expected a dimension",
            ),
            (
                "{'descr': '<f4, 'fortran_order': False, 'shape': (2, 3)}",
                "malformed header",
            ),
            (
                "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)",
                "expected '}'",
            ),
            ("['descr', '<f4']", "expected '{'"),
            (
                "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)} junk",
                "unexpected text after the header dict",
            ),
        ];
        for (header, expected) in cases {
            let message = error(header, &matrix_bytes());
            assert!(message.contains(expected), "{header}: {message}");
        }
    }

    #[test]
    fn broken_preambles_are_errors() {
        assert!(
            parse_npy(b"PK\x03\x04")
                .unwrap_err()
                .contains("not an .npy file")
        );
        assert!(parse_npy(b"\x93NUMPY").unwrap_err().contains("version"));
        assert!(
            parse_npy(b"\x93NUMPY\x09\x00\x10\x00")
                .unwrap_err()
                .contains("version 9.0")
        );
        assert!(
            parse_npy(b"\x93NUMPY\x01\x00\x50\x00{'de")
                .unwrap_err()
                .contains("truncated header")
        );
        let mut non_ascii = npy_bytes("{'descr': '<f4'}", &[]);
        non_ascii[12] = 0xE9;
        assert!(parse_npy(&non_ascii).unwrap_err().contains("not ASCII"));
    }
}
