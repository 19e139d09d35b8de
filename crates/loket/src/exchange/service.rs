//! The exchange workflow, applied once, here: upload a programme-office file → link it to the
//! registry and BP2MI's master list → review the uncertain band → apply journey events
//! (idempotently) and list the unknown recipients for outreach → export consented status
//! updates. Linking and applying run as background jobs whose state lives in the database,
//! so a restart leaves an upload resumable, never half-written.
//!
//! Each step has its own file (`intake`, `linking`, `review`, `apply`, `outreach`, `status`);
//! this module is the workflow's one entry point for pages, the CLI and tests, and holds what
//! the steps share.

use sha2::{Digest, Sha256};

use crate::error::{AppError, Result};
use crate::vault::{IndexKind, Vault};

/// The linkage model used for the exchange (see the file for its reasoning).
pub const LINK_CONFIG: &str = include_str!("link.toml");
/// Match probability from which a pair is accepted without review.
pub const DEFAULT_THRESHOLD: f64 = 0.9;
/// Match probability from which a pair is shown for review (below it: unmatched).
pub const DEFAULT_REVIEW_FLOOR: f64 = 0.3;

/// The audit entity of an upload.
pub(super) const ENTITY: &str = "exchange_upload";

/// The file fingerprint kept with every import (a file sent twice is recognised by it).
pub(super) fn sha256(bytes: &[u8]) -> Vec<u8> {
    Sha256::digest(bytes).to_vec()
}

/// Opens a sealed NIK; a failure names the record (never the NIK) for the log.
pub(super) fn open_nik(vault: &Vault, sealed: &[u8], what: &str, id: i64) -> Result<String> {
    vault
        .open(IndexKind::Nik, sealed)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("NIK of {what} {id}: {e}")))
}

pub use super::apply::apply;
pub use super::intake::{import_master, upload, MasterImported, Uploaded};
pub use super::jobs::{recover_interrupted, retry, upload_state, INTERRUPTED};
pub use super::linking::{link, spawn_link, LinkSummary};
pub use super::outreach::{outreach, region_name, OutreachItem};
pub use super::review::decide;
pub use super::status::{status_export, STATUS_HEADER};
