//! Compaction: merge a partition's small Parquet files into one, recompressed with
//! zstd at a chosen level, keeping the partitioning and every row.
//!
//! Files at or above the size threshold are skipped. The merged file is written atomically and
//! registered (with the files it replaces marked retired) before the old files are removed, so a
//! reader sees the old files, or both for an instant, never a half-written dataset; a crash
//! between the steps is finished by the next run ([`super::tidy`]).

use std::collections::BTreeMap;

use serde::Serialize;

use super::parquet as pq;
use super::{files, register, ExportFile, InterchangeError};
use crate::store::{evidence, Store};

/// Compaction options.
#[derive(Debug, Clone)]
pub struct Options {
    /// Only partitions dated before this (`date=YYYY-MM-DD` compared as text).
    pub before_partition: Option<String>,
    /// zstd level of the merged files.
    pub level: i32,
    /// Files of at least this many bytes are left alone.
    pub threshold: u64,
    pub dry_run: bool,
}

/// One partition's merge.
#[derive(Debug, Clone, Serialize)]
pub struct Merge {
    pub dataset: String,
    pub partition: String,
    pub inputs: Vec<String>,
    pub input_bytes: i64,
    pub output: String,
    pub output_bytes: Option<i64>,
    pub rows: i64,
}

/// What a compaction did (or, dry, would do).
#[derive(Debug, Clone, Serialize, Default)]
pub struct Compacted {
    pub merges: Vec<Merge>,
    pub skipped_large: usize,
    pub dry_run: bool,
    pub evidence: Option<evidence::Appended>,
}

/// Plan and (unless dry) carry out the compaction.
pub fn run(
    store: &mut Store,
    opts: &Options,
    actor: &str,
    now: &str,
) -> Result<Compacted, InterchangeError> {
    let dir = store.dir().to_path_buf();
    if !opts.dry_run {
        super::tidy(store.conn(), &dir)?;
    }
    let mut groups: BTreeMap<(String, String), Vec<ExportFile>> = BTreeMap::new();
    let mut skipped_large = 0;
    for f in files(store.conn(), true)? {
        if f.dataset == "jsonl" {
            continue;
        }
        if opts
            .before_partition
            .as_ref()
            .is_some_and(|b| f.partition >= *b)
        {
            continue;
        }
        if f.bytes as u64 >= opts.threshold {
            skipped_large += 1;
            continue;
        }
        groups
            .entry((f.dataset.clone(), f.partition.clone()))
            .or_default()
            .push(f);
    }
    let mut out = Compacted {
        skipped_large,
        dry_run: opts.dry_run,
        ..Compacted::default()
    };
    let mut written = Vec::new();
    for ((dataset, partition), inputs) in groups {
        // One small file is only worth rewriting to change its compression.
        if inputs.len() < 2 && inputs.iter().all(|f| f.compacted) {
            continue;
        }
        if inputs.len() < 2 && opts.level <= 3 {
            continue;
        }
        let names: Vec<String> = inputs.iter().map(|f| f.path.clone()).collect();
        let key = crate::id::sha256_hex(names.join("\n").as_bytes());
        let output = format!(
            "parquet/{dataset}/{partition}/compact-{}.parquet",
            &key[..16]
        );
        let mut merge = Merge {
            dataset: dataset.clone(),
            partition: partition.clone(),
            input_bytes: inputs.iter().map(|f| f.bytes).sum(),
            rows: inputs.iter().map(|f| f.rows).sum(),
            inputs: names,
            output: output.clone(),
            output_bytes: None,
        };
        if !opts.dry_run {
            let mut batches = Vec::new();
            for f in &inputs {
                batches.extend(pq::read_file(&dir.join(&f.path))?);
            }
            let schema = pq::schema_of(&dataset);
            let path = dir.join(&output);
            let bytes = pq::write_file(&path, schema, &batches, opts.level)?;
            let data = std::fs::read(&path).map_err(|e| InterchangeError::io(&path, e))?;
            let file = ExportFile {
                path: output.clone(),
                dataset: dataset.clone(),
                partition: partition.clone(),
                rows: merge.rows,
                bytes: bytes as i64,
                sha256: crate::id::sha256_hex(&data),
                created_at: now.to_owned(),
                retired_at: None,
                replaced_by: None,
                compacted: true,
            };
            merge.output_bytes = Some(bytes as i64);
            written.push((file, inputs));
        }
        out.merges.push(merge);
    }
    if opts.dry_run || written.is_empty() {
        return Ok(out);
    }
    crate::failpoint::hit("compact:after-files");
    let merges = out.merges.clone();
    out.evidence = Some(store.write_with(|tx| {
        for (file, inputs) in &written {
            register(tx, file)?;
            for f in inputs {
                crate::store::exports::retire(tx, &f.path, now, &file.path)?;
            }
        }
        let data = serde_json::json!({ "merges": merges });
        Ok::<_, InterchangeError>(evidence::append(tx, "compact", actor, now, &data)?)
    })?);
    super::tidy(store.conn(), &dir)?;
    Ok(out)
}
