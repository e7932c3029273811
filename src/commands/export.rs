//! `git tombstone export`: Parquet deltas, or the JSONL interchange file.

use crate::cli::ExportArgs;
use crate::commands::{CommandError, Ctx};
use crate::error::Outcome;
use crate::interchange::{self, export, jsonl, ExportFile};
use crate::output::human_bytes;

/// Run `export`.
pub fn run(args: &ExportArgs, ctx: &Ctx) -> Outcome {
    if !(1..=22).contains(&args.level) {
        return Err(CommandError::Invalid {
            what: "--level".into(),
            why: format!("{} is not a zstd level (1-22)", args.level),
        }
        .into());
    }
    let mut store = ctx.open_store()?;
    let actor = ctx.actor(args.by.as_deref());
    let now = crate::clock::now();
    if let Some(file) = &args.jsonl {
        let path = ctx.cwd.join(file);
        // The evidence line comes first so the file carries it: a store rebuilt from this file
        // has the record of its own export.
        let ev = store.write(|tx| {
            let n = crate::store::items::count(tx)?;
            let data = serde_json::json!({ "jsonl": path.display().to_string(), "items": n });
            crate::store::evidence::append(tx, "export", &actor, &now, &data)
        })?;
        let n = jsonl::export(&store, &path, &now)?;
        let data = std::fs::read(&path).map_err(|source| CommandError::Io {
            path: path.clone(),
            source,
        })?;
        let abs = std::fs::canonicalize(&path).unwrap_or(path.clone());
        let f = ExportFile {
            path: abs.display().to_string(),
            dataset: "jsonl".into(),
            partition: String::new(),
            rows: n as i64,
            bytes: data.len() as i64,
            sha256: crate::id::sha256_hex(&data),
            created_at: now.clone(),
            retired_at: None,
            replaced_by: None,
            compacted: false,
        };
        // Registered so a purge can find and rewrite it.
        store.write_with(|tx| interchange::register(tx, &f))?;
        #[derive(serde::Serialize)]
        struct Jsonl<'a, E> {
            file: &'a interchange::ExportFile,
            items: usize,
            evidence: E,
        }
        ctx.out.json(&Jsonl {
            file: &f,
            items: n,
            evidence: &ev,
        });
        ctx.out.text(&format!(
            "wrote {} ({} items, {})",
            abs.display(),
            n,
            human_bytes(f.bytes as u64)
        ));
        return Ok(0);
    }
    let opts = export::Options {
        content: args.content,
        level: args.level,
    };
    let done = export::run(&mut store, opts, &actor, &now)?;
    ctx.out.json(&done);
    for f in &done.files {
        ctx.out.text(&format!(
            "wrote {} ({} rows, {})",
            f.path,
            f.rows,
            human_bytes(f.bytes as u64)
        ));
    }
    if done.files.is_empty() {
        ctx.out.text("nothing new to export");
    } else {
        ctx.out.text(&format!(
            "exported {} item row(s) and {} blob(s) to {}",
            done.items,
            done.blobs,
            interchange::parquet_dir(store.dir()).display()
        ));
    }
    Ok(0)
}
