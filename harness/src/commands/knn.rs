//! `harness knn`: the neighbour table of an embedding file or of synthetic unit vectors, with
//! its time and peak memory, optionally the arithmetic bound of this machine's GEMM.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use tch::{Device, Kind, Tensor};

use crate::device::DeviceChoice;
use crate::neighbours::cache::{CacheOutcome, NeighbourCache};
use crate::neighbours::{
    ComputeDevice, NeighbourError, cpu_extra_memory_estimate, neighbour_table_on,
};
use crate::npy;

/// Arguments of `harness knn`.
#[derive(Debug, Clone, clap::Args)]
pub struct KnnArgs {
    /// Embeddings: a 2-D float32 .npy file, one row per item; repeat to stack files.
    #[arg(long, value_name = "FILE.npy", required_unless_present = "synthetic")]
    pub input: Vec<PathBuf>,
    /// Neighbours per item.
    #[arg(long, default_value_t = 100)]
    pub k: usize,
    /// Where to compute the similarities: cpu, cuda or cuda:N (cuda needs a CUDA build of
    /// libtorch and a GPU).
    #[arg(long, default_value = "cpu", value_name = "DEVICE")]
    pub device: DeviceChoice,
    /// Instead of --input: N synthetic unit vectors in N/100 clusters (needs --dim).
    #[arg(long, value_name = "N", requires = "dim", conflicts_with = "input")]
    pub synthetic: Option<usize>,
    /// Dimension of the synthetic vectors.
    #[arg(long, value_name = "D", requires = "synthetic")]
    pub dim: Option<usize>,
    /// Seed of the synthetic vectors.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Write the table as an N x k uint32 .npy file.
    #[arg(long, value_name = "FILE.npy")]
    pub output: Option<PathBuf>,
    /// Go through the neighbour cache (read a valid table, else compute and store it).
    #[arg(long)]
    pub cache: bool,
    /// First measure this machine's GEMM rate and print the arithmetic bound N*N*d*2 / rate.
    #[arg(long)]
    pub bound: bool,
    /// Rows per block of similarities [default: 2048 on the CPU; on a GPU about 2 GiB of
    /// scores, at most 8192]. Changes speed and memory, never the table.
    #[arg(long, value_name = "ROWS", value_parser = clap::value_parser!(u32).range(1..))]
    pub block: Option<u32>,
}

/// Runs the command and returns its report.
pub fn run(args: &KnnArgs) -> Result<String> {
    args.device.ensure_usable().context("--device")?;
    if args
        .output
        .as_ref()
        .and_then(|p| p.parent())
        .is_some_and(|p| !p.as_os_str().is_empty() && !p.is_dir())
    {
        bail!(
            "--output: the folder of {} does not exist",
            args.output.as_ref().unwrap().display()
        );
    }
    let (mut embeddings, dim, source) = match (args.synthetic, args.dim) {
        (Some(n), Some(dim)) => {
            let data = fixtures::clustered_embeddings(n, (n / 100).max(1), dim, 1.0, args.seed);
            (
                data.embeddings,
                dim,
                format!("synthetic, seed {}", args.seed),
            )
        }
        _ => {
            let paths: Vec<&std::path::Path> = args.input.iter().map(PathBuf::as_path).collect();
            let matrix = npy::read_stacked(&paths)?;
            let names: Vec<String> = args.input.iter().map(|p| p.display().to_string()).collect();
            (matrix.values, matrix.cols, names.join(" + "))
        }
    };
    let n = embeddings.len() / dim.max(1);
    let device = ComputeDevice::from(args.device.0);
    let block_rows = args.block.map(|rows| rows as usize);
    let normalised = normalise_rows(&mut embeddings, dim);
    let mut out = format!(
        "knn: {n} x {dim} ({source}{}), k {}, {} ({} threads)\n",
        if normalised > 0 {
            format!("; {normalised} rows normalised")
        } else {
            String::new()
        },
        args.k,
        args.device,
        tch::get_num_threads()
    );
    let rate = if args.bound {
        Some(gemm_rate(dim, args.device.0)?)
    } else {
        None
    };

    let startup = start_device(args.device.0)?;
    let baseline = MemoryProbe::start();
    let started = Instant::now();
    let (table, outcome) = if args.cache {
        let cache = NeighbourCache::from_env().context(
            "--cache: the cache is disabled (SAMPLER_HARNESS_CACHE=off) or HOME is unset",
        )?;
        let (table, outcome) = cache
            .table(&embeddings, dim, args.k, device, block_rows)
            .map_err(explained)?;
        (
            table,
            Some((outcome, cache.path_for(&embeddings, dim, args.k))),
        )
    } else {
        (
            neighbour_table_on(&embeddings, dim, args.k, device, block_rows).map_err(explained)?,
            None,
        )
    };
    let seconds = started.elapsed().as_secs_f64();
    let memory = baseline.finish();

    if let Some(startup) = startup {
        out.push_str(&format!(
            "device start-up {startup:.3} s (before the timed work)\n"
        ));
    }
    out.push_str(&format!("time            {seconds:.3} s\n"));
    out.push_str(&format!("extra peak RSS  {memory}\n"));
    if device == ComputeDevice::Cpu && !args.cache {
        out.push_str(&format!(
            "planned buffers {:.1} MiB (selections, table, embeddings, blocks)\n",
            mib(cpu_extra_memory_estimate(n, dim, args.k, block_rows) as u64)
        ));
    }
    if let Some(rate) = rate {
        let flops = 2.0 * (n as f64) * (n as f64) * dim as f64;
        let bound = flops / rate;
        out.push_str(&format!(
            "GEMM rate       {:.1} GFLOP/s (tch mm, 2048 x {dim} x 2048, median of 5)\n",
            rate / 1e9
        ));
        out.push_str(&format!(
            "GEMM bound      {bound:.3} s (N*N*d*2 = {:.1} GFLOP); this run {:.2}x of it\n",
            flops / 1e9,
            seconds / bound
        ));
    }
    if let Some((outcome, path)) = outcome {
        let what = match outcome {
            CacheOutcome::Hit => "hit".to_string(),
            CacheOutcome::Miss => "miss, stored".to_string(),
            CacheOutcome::Rejected(reason) => format!("rejected ({reason}), replaced"),
        };
        out.push_str(&format!("cache           {what}: {}\n", path.display()));
    }
    if let Some(path) = &args.output {
        npy::write_u32(path, n, args.k, &table)?;
        out.push_str(&format!("table           {}\n", path.display()));
    }
    Ok(out)
}

/// Scales rows whose norm is off 1 by more than 1e-4 to unit length; returns how many.
fn normalise_rows(embeddings: &mut [f32], dim: usize) -> usize {
    let mut changed = 0;
    for row in embeddings.chunks_exact_mut(dim.max(1)) {
        let norm = row
            .iter()
            .map(|v| f64::from(*v).powi(2))
            .sum::<f64>()
            .sqrt();
        if norm > 0.0 && (norm - 1.0).abs() > 1e-4 {
            for v in row.iter_mut() {
                *v = (f64::from(*v) / norm) as f32;
            }
            changed += 1;
        }
    }
    changed
}

/// A neighbour-table error with what the user can do about it.
fn explained(error: NeighbourError) -> anyhow::Error {
    match error {
        NeighbourError::NotFinite { .. } => {
            anyhow::anyhow!("{error}: the input must hold finite numbers")
        }
        other => other.into(),
    }
}

/// Creates an accelerator's context (its first tensor, a fraction of a second on a GPU) and
/// returns how long that took, so that the table's time is its own; `None` on the CPU.
fn start_device(device: Device) -> Result<Option<f64>> {
    if device == Device::Cpu {
        return Ok(None);
    }
    let started = Instant::now();
    // Reading the value back waits until the device has really run something.
    Tensor::f_ones([1], (Kind::Float, device))?.f_double_value(&[0])?;
    Ok(Some(started.elapsed().as_secs_f64()))
}

/// Median GEMM rate in FLOP/s of `2048 x dim` by `dim x 2048` blocks, the CPU method's shape.
fn gemm_rate(dim: usize, device: Device) -> Result<f64> {
    let b = 2048i64;
    let a = Tensor::f_randn([b, dim as i64], (Kind::Float, device))?;
    let c = Tensor::f_randn([b, dim as i64], (Kind::Float, device))?;
    let out = Tensor::f_empty([b, b], (Kind::Float, device))?;
    let flops = 2.0 * (b * b) as f64 * dim as f64;
    let repeats = ((2e10 / flops) as usize).clamp(1, 50);
    let mut rates = Vec::new();
    for round in 0..6 {
        let started = Instant::now();
        for _ in 0..repeats {
            let _ = a.f_mm_out(&out, &c.f_tr()?)?;
        }
        // Reading one value waits for asynchronous devices.
        let _ = out.f_double_value(&[0, 0])?;
        if round > 0 {
            rates.push(flops * repeats as f64 / started.elapsed().as_secs_f64());
        }
    }
    rates.sort_by(f64::total_cmp);
    Ok(rates[rates.len() / 2])
}

/// Peak resident memory over a stretch of work: resets the kernel's high-water mark when
/// allowed (writing 5 to /proc/self/clear_refs), else compares against the mark before.
struct MemoryProbe {
    baseline_kib: Option<u64>,
    reset: bool,
}

impl MemoryProbe {
    fn start() -> Self {
        let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
        let baseline_kib = if reset {
            status_kib("VmRSS")
        } else {
            status_kib("VmHWM")
        };
        MemoryProbe {
            baseline_kib,
            reset,
        }
    }

    fn finish(self) -> String {
        match (self.baseline_kib, status_kib("VmHWM")) {
            (Some(baseline), Some(peak)) => format!(
                "{:.1} MiB (VmHWM {:.1} MiB, baseline {} {:.1} MiB)",
                mib(peak.saturating_sub(baseline) * 1024),
                mib(peak * 1024),
                if self.reset { "VmRSS" } else { "VmHWM" },
                mib(baseline * 1024)
            ),
            _ => "unknown (no /proc/self/status)".into(),
        }
    }
}

fn status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status.lines().find_map(|line| {
        line.strip_prefix(field)?
            .strip_prefix(':')?
            .trim()
            .strip_suffix("kB")?
            .trim()
            .parse()
            .ok()
    })
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / f64::from(1 << 20)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(n: usize, dim: usize, k: usize) -> KnnArgs {
        KnnArgs {
            input: Vec::new(),
            k,
            device: DeviceChoice(Device::Cpu),
            synthetic: Some(n),
            dim: Some(dim),
            seed: 3,
            output: None,
            cache: false,
            bound: false,
            block: None,
        }
    }

    #[test]
    fn reports_time_and_memory_and_writes_the_table() {
        let dir = tempfile::tempdir().unwrap();
        let output = dir.path().join("table.npy");
        let report = run(&KnnArgs {
            output: Some(output.clone()),
            ..args(300, 16, 7)
        })
        .unwrap();
        assert!(
            report.starts_with("knn: 300 x 16 (synthetic, seed 3), k 7, cpu"),
            "{report}"
        );
        assert!(report.contains("\ntime "), "{report}");
        assert!(report.contains("\nextra peak RSS "), "{report}");
        let bytes = std::fs::read(&output).unwrap();
        let header = String::from_utf8_lossy(&bytes[10..bytes.len() - 300 * 7 * 4]);
        assert!(
            header.contains("'descr': '<u4'") && header.contains("(300, 7)"),
            "{header}"
        );
        let data = fixtures::clustered_embeddings(300, 3, 16, 1.0, 3);
        let expected = fixtures::exact_neighbours(&data.embeddings, 16, 7);
        let written: Vec<u32> = bytes[bytes.len() - 300 * 7 * 4..]
            .chunks_exact(4)
            .map(|b| u32::from_le_bytes(b.try_into().unwrap()))
            .collect();
        let identical = written
            .chunks_exact(7)
            .zip(expected.chunks_exact(7))
            .filter(|(a, b)| a == b)
            .count();
        assert!(
            identical >= 297,
            "{identical} of 300 rows as the f64 reference"
        );
    }

    #[test]
    fn the_block_size_changes_nothing_in_the_table() {
        let dir = tempfile::tempdir().unwrap();
        let tables: Vec<Vec<u8>> = [None, Some(1), Some(37)]
            .into_iter()
            .map(|block| {
                let output = dir.path().join(format!("{block:?}.npy"));
                let report = run(&KnnArgs {
                    output: Some(output.clone()),
                    block,
                    ..args(250, 8, 9)
                })
                .unwrap();
                assert!(report.contains("planned buffers"), "{report}");
                std::fs::read(output).unwrap()
            })
            .collect();
        assert_eq!(tables[0], tables[1]);
        assert_eq!(tables[0], tables[2]);
    }

    #[test]
    fn reads_and_normalises_npy_input() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("x.npy");
        // Rows of norm 2: normalised before the search.
        let values: Vec<f32> = (0..40)
            .map(|i| if i % 4 == i / 4 % 4 { 2.0 } else { 0.0 })
            .collect();
        npy::write_f32(&input, 10, 4, &values).unwrap();
        let report = run(&KnnArgs {
            input: vec![input],
            synthetic: None,
            dim: None,
            ..args(0, 0, 2)
        })
        .unwrap();
        assert!(
            report.contains("10 x 4 (") && report.contains("10 rows normalised"),
            "{report}"
        );
    }

    #[test]
    fn peak_memory_is_read_from_proc() {
        if std::path::Path::new("/proc/self/status").exists() {
            assert!(status_kib("VmHWM").is_some_and(|kib| kib > 0));
            let probe = MemoryProbe::start();
            let block = vec![1u8; 64 << 20];
            std::hint::black_box(&block);
            assert!(probe.finish().contains("MiB (VmHWM"));
        }
    }
}
