//! The on-disk cache of neighbour tables, keyed by (embedding fingerprint, `k`, metric).
//!
//! # Location
//! `$SAMPLER_HARNESS_CACHE/neighbours/` when that variable is set (`off` disables the cache),
//! else `${XDG_CACHE_HOME:-$HOME/.cache}/sampler-harness/neighbours/`. One file per table, named
//! `cosine-k{k}-{fingerprint as 16 hex digits}.nbt`.
//!
//! # File format (version 1; all integers little-endian)
//! | offset | bytes | field |
//! |---|---|---|
//! | 0 | 8 | magic `SHNBRTAB` |
//! | 8 | 4 | format version, `1` |
//! | 12 | 4 | metric: `1` = f32 dot product of unit rows, self excluded, ties to the lower index |
//! | 16 | 8 | `n`, rows |
//! | 24 | 8 | `k`, neighbours per row |
//! | 32 | 8 | `dim`, embedding dimension |
//! | 40 | 8 | embedding fingerprint: FNV-1a 64 over `n` and `dim` (u64 each), then every f32 |
//! | 48 | 8 | payload checksum: FNV-1a 64 over the payload bytes |
//! | 56 | 8 | header checksum: FNV-1a 64 over bytes 0..56 |
//! | 64 | `4 n k` | payload: the table, row-major `n x k` u32, nearest first |
//!
//! A file is used only when every field matches the request, both checksums hold, the length is
//! exact and every index is a valid other row. Anything else (truncated, corrupt, other
//! embeddings, other format) is reported in one line on stderr, recomputed and replaced. Files
//! are written to a temporary name and renamed, so readers never see a partial file.

use std::ffi::OsString;
use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use super::Result;

use super::ComputeDevice;
use crate::fnv::Fnv1a;

/// Environment variable naming the harness's cache folder (`off` disables the cache).
pub const CACHE_ENV: &str = "SAMPLER_HARNESS_CACHE";

const MAGIC: &[u8; 8] = b"SHNBRTAB";
const FORMAT_VERSION: u32 = 1;
const METRIC_COSINE: u32 = 1;
const HEADER_BYTES: usize = 64;

/// Tables cheaper than this many multiply-adds (`n * n * dim`) are computed, never cached: a
/// few milliseconds, less than reading a file.
const MIN_CACHED_WORK: usize = 1 << 30;

/// What a lookup found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheOutcome {
    /// A valid file: nothing computed.
    Hit,
    /// No file: computed and stored.
    Miss,
    /// A file that failed a check, for the reason given: computed and replaced.
    Rejected(String),
}

/// A folder of cached neighbour tables.
#[derive(Debug, Clone)]
pub struct NeighbourCache {
    dir: PathBuf,
}

/// The identity of a table: what its file name and header must match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct TableKey {
    n: u64,
    k: u64,
    dim: u64,
    fingerprint: u64,
}

impl NeighbourCache {
    /// A cache in `dir` (created on first store).
    pub fn in_dir(dir: impl Into<PathBuf>) -> Self {
        NeighbourCache { dir: dir.into() }
    }

    /// The default cache (see the module documentation), or `None` when disabled or when no
    /// home folder is known.
    pub fn from_env() -> Option<Self> {
        default_dir(|name| std::env::var_os(name), "neighbours").map(Self::in_dir)
    }

    /// The folder holding the files.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file that holds (or would hold) the table of these embeddings and `k`.
    pub fn path_for(&self, embeddings: &[f32], dim: usize, k: usize) -> PathBuf {
        self.path(&TableKey::new(embeddings, dim, k))
    }

    fn path(&self, key: &TableKey) -> PathBuf {
        self.dir
            .join(format!("cosine-k{}-{:016x}.nbt", key.k, key.fingerprint))
    }

    /// The table from the cache when a valid file exists, else computed on `device` (blocks of
    /// `block_rows`, see [`neighbour_table_on`](super::neighbour_table_on)), stored and
    /// returned. A rejected file is reported in one line on stderr.
    pub fn table(
        &self,
        embeddings: &[f32],
        dim: usize,
        k: usize,
        device: ComputeDevice,
        block_rows: Option<usize>,
    ) -> Result<(Vec<u32>, CacheOutcome)> {
        self.table_with(embeddings, dim, k, || {
            super::neighbour_table_on(embeddings, dim, k, device, block_rows)
        })
    }

    /// [`table`](Self::table) with the computation supplied by the caller.
    pub fn table_with(
        &self,
        embeddings: &[f32],
        dim: usize,
        k: usize,
        compute: impl FnOnce() -> Result<Vec<u32>>,
    ) -> Result<(Vec<u32>, CacheOutcome)> {
        let key = TableKey::new(embeddings, dim, k);
        let path = self.path(&key);
        let outcome = match read_table(&path, &key) {
            Ok(Some(table)) => return Ok((table, CacheOutcome::Hit)),
            Ok(None) => CacheOutcome::Miss,
            Err(reason) => {
                eprintln!(
                    "neighbour cache: ignoring {}: {reason}; recomputing",
                    path.display()
                );
                CacheOutcome::Rejected(reason)
            }
        };
        let table = compute()?;
        if let Err(error) = self.store(&path, &key, &table) {
            eprintln!(
                "neighbour cache: could not store {}: {error}",
                path.display()
            );
        }
        Ok((table, outcome))
    }

    fn store(&self, path: &Path, key: &TableKey, table: &[u32]) -> io::Result<()> {
        fs::create_dir_all(&self.dir)?;
        let bytes = encode(key, table);
        let unique = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let temporary = self.dir.join(format!(
            ".{}.{}-{unique}.tmp",
            path.file_name().and_then(|n| n.to_str()).unwrap_or("table"),
            std::process::id()
        ));
        fs::write(&temporary, bytes)
            .and_then(|()| fs::rename(&temporary, path))
            .inspect_err(|_| {
                let _ = fs::remove_file(&temporary);
            })
    }
}

/// The neighbour table the samplers use: from the default cache when the table is worth
/// caching and the cache is enabled, else computed on the CPU.
pub fn cached_neighbour_table(embeddings: &[f32], dim: usize, k: usize) -> Result<Vec<u32>> {
    let n = embeddings.len() / dim.max(1);
    let work = n.saturating_mul(n).saturating_mul(dim);
    match NeighbourCache::from_env() {
        Some(cache) if k > 0 && work >= MIN_CACHED_WORK => {
            Ok(cache.table(embeddings, dim, k, ComputeDevice::Cpu, None)?.0)
        }
        _ => super::neighbour_table(embeddings, dim, k),
    }
}

/// The folder `sub` of the harness's cache (see the module documentation), reading the
/// environment through `var`; `None` when the cache is off or no home folder is known.
pub(crate) fn default_dir(var: impl Fn(&str) -> Option<OsString>, sub: &str) -> Option<PathBuf> {
    let root = match var(CACHE_ENV) {
        Some(value) if value == "off" => return None,
        Some(value) if !value.is_empty() => PathBuf::from(value),
        _ => var("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .filter(|path| path.is_absolute())
            .or_else(|| var("HOME").map(|home| PathBuf::from(home).join(".cache")))?
            .join("sampler-harness"),
    };
    Some(root.join(sub))
}

impl TableKey {
    fn new(embeddings: &[f32], dim: usize, k: usize) -> Self {
        let n = (embeddings.len() / dim.max(1)) as u64;
        TableKey {
            n,
            k: k as u64,
            dim: dim as u64,
            fingerprint: fingerprint(embeddings, dim),
        }
    }
}

/// FNV-1a 64 over `n` and `dim` (u64, little-endian), then every value's little-endian bytes.
pub fn fingerprint(embeddings: &[f32], dim: usize) -> u64 {
    let n = (embeddings.len() / dim.max(1)) as u64;
    let mut hash = Fnv1a::new();
    hash.feed(&n.to_le_bytes());
    hash.feed(&(dim as u64).to_le_bytes());
    for chunk in embeddings.chunks(4096) {
        let bytes: Vec<u8> = chunk.iter().flat_map(|v| v.to_le_bytes()).collect();
        hash.feed(&bytes);
    }
    hash.value()
}

fn encode(key: &TableKey, table: &[u32]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(HEADER_BYTES + table.len() * 4);
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    bytes.extend_from_slice(&METRIC_COSINE.to_le_bytes());
    for field in [key.n, key.k, key.dim, key.fingerprint] {
        bytes.extend_from_slice(&field.to_le_bytes());
    }
    bytes.extend_from_slice(&[0; 16]);
    for value in table {
        bytes.extend_from_slice(&value.to_le_bytes());
    }
    let payload_checksum = Fnv1a::of(&bytes[HEADER_BYTES..]);
    bytes[48..56].copy_from_slice(&payload_checksum.to_le_bytes());
    let header_checksum = Fnv1a::of(&bytes[..56]);
    bytes[56..64].copy_from_slice(&header_checksum.to_le_bytes());
    bytes
}

/// `Ok(None)` when there is no file, `Err(reason)` when there is one that must not be used.
fn read_table(path: &Path, key: &TableKey) -> Result<Option<Vec<u32>>, String> {
    let mut file = match File::open(path) {
        Ok(file) => file,
        Err(error)
            if matches!(
                error.kind(),
                io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
            ) =>
        {
            return Ok(None);
        }
        Err(error) => return Err(format!("unreadable ({error})")),
    };
    let length = file
        .metadata()
        .map_err(|e| format!("unreadable ({e})"))?
        .len();
    let mut header = [0u8; HEADER_BYTES];
    if length < HEADER_BYTES as u64 {
        return Err(format!(
            "truncated header ({length} of {HEADER_BYTES} bytes)"
        ));
    }
    file.read_exact(&mut header)
        .map_err(|e| format!("unreadable header ({e})"))?;
    if &header[..8] != MAGIC {
        return Err("not a neighbour table (bad magic)".into());
    }
    let u32_at = |at: usize| u32::from_le_bytes(header[at..at + 4].try_into().expect("4 bytes"));
    let u64_at = |at: usize| u64::from_le_bytes(header[at..at + 8].try_into().expect("8 bytes"));
    if Fnv1a::of(&header[..56]) != u64_at(56) {
        return Err("corrupt header (checksum mismatch)".into());
    }
    if u32_at(8) != FORMAT_VERSION {
        return Err(format!(
            "format version {}, this harness reads version {FORMAT_VERSION}",
            u32_at(8)
        ));
    }
    let found = TableKey {
        n: u64_at(16),
        k: u64_at(24),
        dim: u64_at(32),
        fingerprint: u64_at(40),
    };
    if u32_at(12) != METRIC_COSINE || found != *key {
        return Err(format!(
            "made for other inputs (metric {}, n {}, dim {}, k {}, fingerprint {:016x}; wanted \
             metric {METRIC_COSINE}, n {}, dim {}, k {}, fingerprint {:016x})",
            u32_at(12),
            found.n,
            found.dim,
            found.k,
            found.fingerprint,
            key.n,
            key.dim,
            key.k,
            key.fingerprint
        ));
    }
    let payload_bytes = key.n * key.k * 4;
    let expected = HEADER_BYTES as u64 + payload_bytes;
    if length != expected {
        return Err(format!(
            "{} ({length} bytes, expected {expected})",
            if length < expected {
                "truncated payload"
            } else {
                "trailing bytes"
            }
        ));
    }
    let mut payload = vec![0u8; payload_bytes as usize];
    file.read_exact(&mut payload)
        .map_err(|e| format!("unreadable payload ({e})"))?;
    if Fnv1a::of(&payload) != u64_at(48) {
        return Err("corrupt payload (checksum mismatch)".into());
    }
    let table: Vec<u32> = payload
        .chunks_exact(4)
        .map(|b| u32::from_le_bytes(b.try_into().expect("4 bytes")))
        .collect();
    let k = key.k as usize;
    for (row, neighbours) in table.chunks_exact(k.max(1)).enumerate() {
        if let Some(&bad) = neighbours
            .iter()
            .find(|&&j| u64::from(j) >= key.n || j as usize == row)
        {
            return Err(format!("invalid neighbour {bad} in row {row}"));
        }
    }
    Ok(Some(table))
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    struct Fixture {
        _dir: tempfile::TempDir,
        cache: NeighbourCache,
        embeddings: Vec<f32>,
        dim: usize,
        k: usize,
        computed: Cell<usize>,
    }

    impl Fixture {
        fn new() -> Self {
            let dir = tempfile::tempdir().unwrap();
            let cache = NeighbourCache::in_dir(dir.path().join("neighbours"));
            let data = fixtures::clustered_embeddings(60, 4, 8, 0.5, 3);
            Fixture {
                _dir: dir,
                cache,
                embeddings: data.embeddings,
                dim: 8,
                k: 5,
                computed: Cell::new(0),
            }
        }

        fn lookup(&self) -> (Vec<u32>, CacheOutcome) {
            self.cache
                .table_with(&self.embeddings, self.dim, self.k, || {
                    self.computed.set(self.computed.get() + 1);
                    crate::neighbours::neighbour_table(&self.embeddings, self.dim, self.k)
                })
                .unwrap()
        }

        fn path(&self) -> PathBuf {
            self.cache.path_for(&self.embeddings, self.dim, self.k)
        }

        /// Stores a valid file, damages it, and checks that the next lookup rejects it with a
        /// reason containing `expected`, recomputes, and repairs the file.
        fn rejects(&self, damage: impl FnOnce(&mut Vec<u8>), expected: &str) {
            let (table, _) = self.lookup();
            let mut bytes = fs::read(self.path()).unwrap();
            damage(&mut bytes);
            fs::write(self.path(), &bytes).unwrap();
            let before = self.computed.get();
            let (again, outcome) = self.lookup();
            assert_eq!(again, table);
            assert_eq!(self.computed.get(), before + 1, "must recompute");
            match outcome {
                CacheOutcome::Rejected(reason) => {
                    assert!(reason.contains(expected), "{reason:?} lacks {expected:?}")
                }
                other => panic!("expected a rejection, got {other:?}"),
            }
            assert_eq!(self.lookup().1, CacheOutcome::Hit, "the file was repaired");
        }
    }

    /// Rewrites the header checksum after editing header fields, so that the field check
    /// (not the checksum) must catch the edit.
    fn reseal_header(bytes: &mut [u8]) {
        let checksum = Fnv1a::of(&bytes[..56]);
        bytes[56..64].copy_from_slice(&checksum.to_le_bytes());
    }

    #[test]
    fn stores_then_hits_without_recomputing() {
        let f = Fixture::new();
        let (first, outcome) = f.lookup();
        assert_eq!(outcome, CacheOutcome::Miss);
        assert!(f.path().is_file());
        let (second, outcome) = f.lookup();
        assert_eq!((second, outcome), (first.clone(), CacheOutcome::Hit));
        assert_eq!(f.computed.get(), 1);
        assert_eq!(
            first,
            fixtures::exact_neighbours(&f.embeddings, f.dim, f.k),
            "the cached table is the exact one"
        );
        let bytes = fs::read(f.path()).unwrap();
        assert_eq!(&bytes[..8], b"SHNBRTAB");
        assert_eq!(bytes.len(), 64 + 60 * 5 * 4);
        // No temporary files are left behind.
        assert_eq!(fs::read_dir(f.cache.dir()).unwrap().count(), 1);
    }

    #[test]
    fn other_embeddings_or_k_use_other_files() {
        let f = Fixture::new();
        f.lookup();
        let mut changed = f.embeddings.clone();
        changed[7] = -changed[7];
        assert_ne!(
            f.cache.path_for(&changed, f.dim, f.k),
            f.path(),
            "fingerprint"
        );
        assert_ne!(f.cache.path_for(&f.embeddings, f.dim, 6), f.path(), "k");
        let (table, outcome) = f
            .cache
            .table(&f.embeddings, f.dim, 6, ComputeDevice::Cpu, None)
            .unwrap();
        assert_eq!(outcome, CacheOutcome::Miss);
        assert_eq!(table.len(), 60 * 6);
    }

    #[test]
    fn truncated_payload_is_recomputed() {
        Fixture::new().rejects(|b| b.truncate(b.len() - 3), "truncated payload");
    }

    #[test]
    fn truncated_header_is_recomputed() {
        Fixture::new().rejects(|b| b.truncate(20), "truncated header");
    }

    #[test]
    fn empty_file_is_recomputed() {
        Fixture::new().rejects(|b| b.clear(), "truncated header");
    }

    #[test]
    fn trailing_bytes_are_recomputed() {
        Fixture::new().rejects(|b| b.extend_from_slice(&[0; 4]), "trailing bytes");
    }

    #[test]
    fn flipped_payload_bit_is_recomputed() {
        Fixture::new().rejects(|b| b[64 + 17] ^= 0x04, "corrupt payload");
    }

    #[test]
    fn swapped_neighbours_fail_the_checksum() {
        // Same bytes, other order: a checksum of sums would miss this.
        Fixture::new().rejects(
            |b| {
                let (first, second) = (b[64..68].to_vec(), b[68..72].to_vec());
                b[64..68].copy_from_slice(&second);
                b[68..72].copy_from_slice(&first);
            },
            "corrupt payload",
        );
    }

    #[test]
    fn flipped_header_bit_is_recomputed() {
        Fixture::new().rejects(|b| b[20] ^= 0x01, "corrupt header");
    }

    #[test]
    fn bad_magic_is_recomputed() {
        Fixture::new().rejects(|b| b[0] = b'X', "bad magic");
    }

    #[test]
    fn other_format_version_is_recomputed() {
        Fixture::new().rejects(
            |b| {
                b[8..12].copy_from_slice(&2u32.to_le_bytes());
                reseal_header(b);
            },
            "format version 2",
        );
    }

    #[test]
    fn mismatched_header_fields_are_recomputed() {
        // Fingerprint, k, n, dim and metric, each with a valid header checksum.
        for offset in [40, 24, 16, 32, 12] {
            Fixture::new().rejects(
                |b| {
                    b[offset] ^= 0x02;
                    reseal_header(b);
                },
                "made for other inputs",
            );
        }
    }

    #[test]
    fn invalid_indices_with_a_valid_checksum_are_recomputed() {
        Fixture::new().rejects(
            |b| {
                // Row 0 naming itself, with both checksums recomputed.
                b[64..68].copy_from_slice(&0u32.to_le_bytes());
                let payload = Fnv1a::of(&b[64..]);
                b[48..56].copy_from_slice(&payload.to_le_bytes());
                reseal_header(b);
            },
            "invalid neighbour 0 in row 0",
        );
    }

    #[test]
    fn an_unwritable_cache_still_returns_the_table() {
        let f = Fixture::new();
        let blocker = f.cache.dir().parent().unwrap().join("file");
        fs::write(&blocker, b"not a folder").unwrap();
        let cache = NeighbourCache::in_dir(blocker.join("neighbours"));
        let (table, outcome) = cache
            .table(&f.embeddings, f.dim, f.k, ComputeDevice::Cpu, None)
            .unwrap();
        assert_eq!(outcome, CacheOutcome::Miss);
        assert_eq!(table.len(), 60 * 5);
    }

    #[test]
    fn default_folder_follows_the_environment() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(key, _)| *key == name)
                    .map(|(_, value)| OsString::from(value))
            }
        };
        let dir = |pairs| default_dir(env(pairs), "neighbours");
        assert_eq!(
            dir(&[("HOME", "/home/a")]),
            Some(PathBuf::from("/home/a/.cache/sampler-harness/neighbours"))
        );
        assert_eq!(
            dir(&[("HOME", "/home/a"), ("XDG_CACHE_HOME", "/xdg")]),
            Some(PathBuf::from("/xdg/sampler-harness/neighbours"))
        );
        assert_eq!(
            dir(&[("HOME", "/home/a"), ("XDG_CACHE_HOME", "relative")]),
            Some(PathBuf::from("/home/a/.cache/sampler-harness/neighbours")),
            "XDG ignores relative paths"
        );
        assert_eq!(
            dir(&[("HOME", "/home/a"), (CACHE_ENV, "/c")]),
            Some(PathBuf::from("/c/neighbours"))
        );
        assert_eq!(dir(&[("HOME", "/home/a"), (CACHE_ENV, "off")]), None);
        assert_eq!(dir(&[]), None);
    }

    #[test]
    fn fingerprint_is_fnv1a_of_the_documented_bytes() {
        let embeddings = [1.0f32, -0.5];
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&1u64.to_le_bytes());
        bytes.extend_from_slice(&2u64.to_le_bytes());
        bytes.extend_from_slice(&1.0f32.to_le_bytes());
        bytes.extend_from_slice(&(-0.5f32).to_le_bytes());
        assert_eq!(fingerprint(&embeddings, 2), Fnv1a::of(&bytes));
    }
}
