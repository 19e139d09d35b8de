//! `loket keys` and `loket audit`: the data keys and the audit log's hash chain.

use anyhow::{bail, Context};

use loket::{AppState, Config};

use loket::audit::Entry;

use super::{audit_cli, progress_bar, AuditAction, KeysAction};

/// `loket keys add|rotate|status`.
pub async fn keys(config: Config, action: KeysAction) -> anyhow::Result<()> {
    match action {
        KeysAction::Add => add_key(config).await,
        KeysAction::Rotate { max_batches } => rotate(config, max_batches).await,
        KeysAction::Status => status(config).await,
    }
}

async fn add_key(config: Config) -> anyhow::Result<()> {
    if config.data_key.is_some() {
        let key = base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            loket::vault::Vault::generate_master(),
        );
        println!("LOKET_DATA_KEY is set: add the new key to it yourself, e.g. LOKET_DATA_KEY=\"1:<old>,2:{key}\", restart, then run `loket keys rotate`.");
    } else {
        let id = loket::vault::Vault::add_key_to_file(&config.key_file)?;
        let file = config.key_file.display().to_string();
        let state = AppState::open(config).await?;
        let entry = Entry::new("keys.add", "data_key", id).reason(file.clone());
        audit_cli(&state.db, entry).await?;
        println!("key {id} added to {file}; run `loket keys rotate` to re-encrypt existing data");
    }
    Ok(())
}

async fn rotate(config: Config, max_batches: Option<usize>) -> anyhow::Result<()> {
    let state = AppState::open(config).await?;
    let total = loket::participants::count(&state.db).await?;
    let bar = progress_bar(total as u64, "rotate");
    let report =
        loket::keys::rotate(&state.db, &state.vault, max_batches, |n| bar.inc(n as u64)).await?;
    bar.finish_and_clear();
    let entry = Entry::new("keys.rotate", "data_key", report.to_key).reason(format!(
        "{} baris/rows, {} batch, selesai/finished: {}",
        report.rows_rewritten, report.batches, report.finished
    ));
    audit_cli(&state.db, entry).await?;
    let state_word = if report.finished {
        "finished"
    } else {
        "paused (run again to resume)"
    };
    println!(
        "rotation to key {}: {} rows re-encrypted in {} batches, {state_word}",
        report.to_key, report.rows_rewritten, report.batches
    );
    Ok(())
}

async fn status(config: Config) -> anyhow::Result<()> {
    let state = AppState::open(config).await?;
    println!(
        "keys in the ring: {:?}, current {}",
        state.vault.key_ids(),
        state.vault.current_key_id()
    );
    for (id, count) in loket::keys::key_usage(&state.db).await? {
        println!("  key {id}: {count} participants");
    }
    Ok(())
}

/// `loket audit verify [--against FILE]` (exits non-zero when the chain is broken) and
/// `loket audit checkpoint --out FILE`.
pub async fn audit(config: Config, action: AuditAction) -> anyhow::Result<()> {
    let state = AppState::open(config).await?;
    match action {
        AuditAction::Verify { against } => verify(&state, against.as_deref()).await,
        AuditAction::Checkpoint { out } => {
            let point = loket::audit::checkpoint(&state.db).await?;
            loket::audit::write_checkpoint(&out, &point)
                .with_context(|| format!("writing {}", out.display()))?;
            println!(
                "audit checkpoint: {} entries, last {} ({}), written to {}",
                point.entries,
                point.last_id,
                point.head,
                out.display()
            );
            Ok(())
        }
    }
}

async fn verify(state: &AppState, against: Option<&std::path::Path>) -> anyhow::Result<()> {
    let result = match against {
        Some(file) => {
            let point = loket::audit::read_checkpoint(file)
                .with_context(|| format!("reading the checkpoint {}", file.display()))?;
            loket::audit::verify_against(&state.db, &point).await?
        }
        None => loket::audit::verify(&state.db).await?,
    };
    match result {
        (checked, None) => println!("audit chain intact: {checked} entries verified"),
        (checked, Some(broken)) => {
            bail!("audit chain BROKEN after {checked} good entries: {broken}")
        }
    }
    Ok(())
}
