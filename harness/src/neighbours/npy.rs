//! Just enough of NumPy's `.npy` format (versions 1 to 3) for embedding matrices: reads 2-D
//! little-endian `float32`/`float64` arrays in C order, writes 2-D `float32` and `uint32` ones.

use std::fs;
use std::path::Path;

use anyhow::{Context, Result, bail};

const MAGIC: &[u8; 6] = b"\x93NUMPY";

/// A row-major matrix read from a `.npy` file, as f32.
#[derive(Debug, Clone, PartialEq)]
pub struct Matrix {
    pub rows: usize,
    pub cols: usize,
    pub values: Vec<f32>,
}

/// Reads a 2-D `<f4` or `<f8` (converted to f32) C-order array.
pub fn read_matrix(path: &Path) -> Result<Matrix> {
    let bytes = fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    parse_matrix(&bytes).with_context(|| format!("{} is not a 2-D float .npy", path.display()))
}

/// Reads several files with the same column count and stacks their rows.
pub fn read_stacked(paths: &[&Path]) -> Result<Matrix> {
    let mut stacked: Option<Matrix> = None;
    for path in paths {
        let next = read_matrix(path)?;
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

/// Parses the bytes of a `.npy` file.
pub fn parse_matrix(bytes: &[u8]) -> Result<Matrix> {
    if bytes.len() < 10 || &bytes[..6] != MAGIC {
        bail!("missing the \\x93NUMPY magic");
    }
    let (header_len, start) = match bytes[6] {
        1 => (usize::from(u16::from_le_bytes([bytes[8], bytes[9]])), 10),
        2 | 3 if bytes.len() >= 12 => (
            u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes")) as usize,
            12,
        ),
        version => bail!("unsupported .npy version {version}"),
    };
    let header = bytes
        .get(start..start + header_len)
        .context("truncated header")?;
    let header = std::str::from_utf8(header).context("header is not text")?;
    let descr = field(header, "descr")?;
    let descr = descr.trim_matches(|c| c == '\'' || c == '"');
    let fortran = field(header, "fortran_order")?;
    if fortran != "False" {
        bail!("fortran_order {fortran}: only C order is supported");
    }
    let shape = field(header, "shape")?;
    let dims: Vec<usize> = shape
        .trim_matches(|c| c == '(' || c == ')')
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().with_context(|| format!("shape {shape}")))
        .collect::<Result<_>>()?;
    let [rows, cols] = dims[..] else {
        bail!("shape {shape}: expected 2 dimensions");
    };
    let data = &bytes[start + header_len..];
    let count = rows.checked_mul(cols).context("shape overflows")?;
    let values: Vec<f32> = match descr {
        "<f4" => {
            check_len(data, count, 4)?;
            data.chunks_exact(4)
                .map(|b| f32::from_le_bytes(b.try_into().expect("4 bytes")))
                .collect()
        }
        "<f8" => {
            check_len(data, count, 8)?;
            data.chunks_exact(8)
                .map(|b| f64::from_le_bytes(b.try_into().expect("8 bytes")) as f32)
                .collect()
        }
        other => bail!("dtype {other}: expected <f4 or <f8"),
    };
    Ok(Matrix { rows, cols, values })
}

fn check_len(data: &[u8], count: usize, width: usize) -> Result<()> {
    if data.len() != count * width {
        bail!(
            "{} data bytes for {count} values of {width} bytes",
            data.len()
        );
    }
    Ok(())
}

/// The text after `'name':` up to the next top-level comma or closing brace.
fn field<'a>(header: &'a str, name: &str) -> Result<&'a str> {
    let at = header
        .find(&format!("'{name}'"))
        .with_context(|| format!("header lacks '{name}'"))?;
    let rest = header[at + name.len() + 2..]
        .trim_start()
        .strip_prefix(':')
        .with_context(|| format!("header field '{name}'"))?
        .trim_start();
    let mut depth = 0;
    for (i, c) in rest.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' | '}' if depth == 0 => return Ok(rest[..i].trim()),
            _ => {}
        }
    }
    bail!("header field '{name}' is not terminated")
}

/// Writes a row-major `rows x cols` f32 matrix as a version-1 `.npy` file.
pub fn write_f32(path: &Path, rows: usize, cols: usize, values: &[f32]) -> Result<()> {
    write(
        path,
        "<f4",
        rows,
        cols,
        values.iter().flat_map(|v| v.to_le_bytes()),
    )
}

/// Writes a row-major `rows x cols` u32 matrix (a neighbour table) as a version-1 `.npy` file.
pub fn write_u32(path: &Path, rows: usize, cols: usize, values: &[u32]) -> Result<()> {
    write(
        path,
        "<u4",
        rows,
        cols,
        values.iter().flat_map(|v| v.to_le_bytes()),
    )
}

fn write(
    path: &Path,
    descr: &str,
    rows: usize,
    cols: usize,
    data: impl Iterator<Item = u8>,
) -> Result<()> {
    let mut header =
        format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': ({rows}, {cols}), }}");
    // Magic, version, length and header padded with spaces to a multiple of 64, then '\n'.
    let unpadded = 10 + header.len() + 1;
    header.push_str(&" ".repeat(unpadded.next_multiple_of(64) - unpadded));
    header.push('\n');
    let mut bytes = Vec::with_capacity(10 + header.len() + rows * cols * 4);
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&[1, 0]);
    bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend(data);
    fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_reads_numpy_headers() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.npy");
        let values: Vec<f32> = (0..12).map(|v| v as f32 * 0.5 - 1.0).collect();
        write_f32(&path, 3, 4, &values).unwrap();
        let bytes = fs::read(&path).unwrap();
        assert_eq!((bytes.len() - 12 * 4) % 64, 0, "data starts 64-aligned");
        let read = read_matrix(&path).unwrap();
        assert_eq!((read.rows, read.cols, read.values), (3, 4, values.clone()));
        let stacked = read_stacked(&[&path, &path]).unwrap();
        assert_eq!(stacked.rows, 6);
        assert_eq!(&stacked.values[12..], &values[..]);
    }

    #[test]
    fn reads_float64_and_version_2() {
        let header = "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 1), }\n";
        let mut bytes = MAGIC.to_vec();
        bytes.extend_from_slice(&[2, 0]);
        bytes.extend_from_slice(&(header.len() as u32).to_le_bytes());
        bytes.extend_from_slice(header.as_bytes());
        for v in [0.25f64, -3.0] {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
        let m = parse_matrix(&bytes).unwrap();
        assert_eq!((m.rows, m.cols, m.values), (2, 1, vec![0.25, -3.0]));
    }

    #[test]
    fn refuses_what_it_cannot_read() {
        let make = |descr: &str, fortran: &str, shape: &str, data: usize| {
            let header =
                format!("{{'descr': '{descr}', 'fortran_order': {fortran}, 'shape': {shape}, }}\n");
            let mut bytes = MAGIC.to_vec();
            bytes.extend_from_slice(&[1, 0]);
            bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
            bytes.extend_from_slice(header.as_bytes());
            bytes.extend(std::iter::repeat_n(0u8, data));
            parse_matrix(&bytes).map(|_| ()).unwrap_err().to_string()
        };
        assert!(make("<i4", "False", "(2, 2)", 16).contains("dtype <i4"));
        assert!(make("<f4", "True", "(2, 2)", 16).contains("fortran_order"));
        assert!(make("<f4", "False", "(4,)", 16).contains("2 dimensions"));
        assert!(make("<f4", "False", "(2, 2)", 15).contains("15 data bytes"));
        assert!(
            parse_matrix(b"not numpy")
                .unwrap_err()
                .to_string()
                .contains("magic")
        );
    }

    #[test]
    fn reads_the_chebi_embeddings() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/chebi20");
        let path = root.join("train.minilm.npy");
        if !path.exists() {
            return;
        }
        let m = read_matrix(&path).unwrap();
        assert_eq!((m.rows, m.cols), (3301, 384));
        let norm: f32 = m.values[..384].iter().map(|v| v * v).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4, "MiniLM rows are unit: {norm}");
    }
}
