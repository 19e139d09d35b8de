//! Personal data at rest: NIK, KK and phone are sealed with XChaCha20-Poly1305 and found again
//! through an HMAC-SHA256 blind index. The key lives outside the database (environment or a
//! file with mode 0600), so a copy of the database alone reveals none of them.

use std::path::Path;

use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

const FORMAT_V1: u8 = 1;
const NONCE_LEN: usize = 24;

#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("LOKET_DATA_KEY must be 32 bytes in base64 or 64 hex digits")]
    BadKey,
    #[error("cannot read or create the key file {path}: {source}")]
    KeyFile {
        path: String,
        source: std::io::Error,
    },
    #[error("sealed value is malformed or was encrypted with another key")]
    CannotOpen,
}

/// Which kind of value a blind index is for: the same digits as NIK and as KK must not collide.
#[derive(Clone, Copy, Debug)]
pub enum IndexKind {
    Nik,
    Kk,
    Phone,
}

impl IndexKind {
    fn label(self) -> &'static [u8] {
        match self {
            IndexKind::Nik => b"nik",
            IndexKind::Kk => b"kk",
            IndexKind::Phone => b"phone",
        }
    }
}

#[derive(Clone)]
pub struct Vault {
    aead: XChaCha20Poly1305,
    index_key: [u8; 32],
    key_id: u8,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

fn derive(master: &[u8; 32], label: &[u8]) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(master)
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    mac.update(label);
    mac.finalize().into_bytes().into()
}

impl Vault {
    /// Separate keys for sealing and for the index are derived from one master key.
    pub fn from_master(master: &[u8; 32]) -> Vault {
        let seal_key = derive(master, b"loket/seal/v1");
        Vault {
            aead: XChaCha20Poly1305::new(&seal_key.into()),
            index_key: derive(master, b"loket/blind-index/v1"),
            key_id: 1,
        }
    }

    /// Parses a master key given as base64 (32 bytes) or 64 hex digits.
    pub fn parse_master(text: &str) -> Result<[u8; 32], VaultError> {
        let text = text.trim();
        let bytes = if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            hex::decode(text).map_err(|_| VaultError::BadKey)?
        } else {
            base64::engine::general_purpose::STANDARD
                .decode(text)
                .map_err(|_| VaultError::BadKey)?
        };
        bytes.try_into().map_err(|_| VaultError::BadKey)
    }

    /// The key from `LOKET_DATA_KEY` when given, else from `key_file`, created (mode 0600)
    /// with a fresh random key on first run.
    pub fn load(env_key: Option<&str>, key_file: &Path) -> Result<Vault, VaultError> {
        if let Some(text) = env_key.filter(|t| !t.trim().is_empty()) {
            return Ok(Vault::from_master(&Vault::parse_master(text)?));
        }
        let io_err = |source| VaultError::KeyFile {
            path: key_file.display().to_string(),
            source,
        };
        if key_file.exists() {
            let text = std::fs::read_to_string(key_file).map_err(io_err)?;
            return Ok(Vault::from_master(&Vault::parse_master(&text)?));
        }
        let mut master = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut master);
        write_private_file(
            key_file,
            &base64::engine::general_purpose::STANDARD.encode(master),
        )
        .map_err(io_err)?;
        Ok(Vault::from_master(&master))
    }

    /// Encrypts `plaintext`; the `context` (e.g. "nik") is authenticated so a sealed NIK
    /// cannot be swapped into the phone column unnoticed.
    pub fn seal(&self, context: IndexKind, plaintext: &str) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::thread_rng().fill_bytes(&mut nonce);
        let payload = Payload {
            msg: plaintext.as_bytes(),
            aad: context.label(),
        };
        // Encryption of an in-memory buffer with a valid key cannot fail.
        let ciphertext = self
            .aead
            .encrypt(XNonce::from_slice(&nonce), payload)
            .unwrap_or_default();
        let mut out = Vec::with_capacity(2 + NONCE_LEN + ciphertext.len());
        out.push(FORMAT_V1);
        out.push(self.key_id);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ciphertext);
        out
    }

    pub fn open(&self, context: IndexKind, sealed: &[u8]) -> Result<String, VaultError> {
        if sealed.len() < 2 + NONCE_LEN || sealed[0] != FORMAT_V1 {
            return Err(VaultError::CannotOpen);
        }
        let (nonce, ciphertext) = sealed[2..].split_at(NONCE_LEN);
        let payload = Payload {
            msg: ciphertext,
            aad: context.label(),
        };
        let plain = self
            .aead
            .decrypt(XNonce::from_slice(nonce), payload)
            .map_err(|_| VaultError::CannotOpen)?;
        String::from_utf8(plain).map_err(|_| VaultError::CannotOpen)
    }

    /// Deterministic keyed digest for exact lookup of an already normalised value.
    pub fn blind_index(&self, kind: IndexKind, normalised: &str) -> Vec<u8> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.index_key)
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        mac.update(kind.label());
        mac.update(&[0]);
        mac.update(normalised.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }
}

fn write_private_file(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents.as_bytes())?;
    file.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vault() -> Vault {
        Vault::from_master(&[7u8; 32])
    }

    #[test]
    fn seal_then_open_gives_back_the_value_and_hides_it() {
        let v = vault();
        let sealed = v.seal(IndexKind::Nik, "3201014505900001");
        assert!(!sealed.windows(16).any(|w| w == b"3201014505900001"));
        assert_eq!(v.open(IndexKind::Nik, &sealed).unwrap(), "3201014505900001");
        // Same value twice seals differently (random nonce).
        assert_ne!(sealed, v.seal(IndexKind::Nik, "3201014505900001"));
    }

    #[test]
    fn wrong_context_or_key_cannot_open() {
        let sealed = vault().seal(IndexKind::Nik, "081234567890");
        assert!(vault().open(IndexKind::Phone, &sealed).is_err());
        assert!(Vault::from_master(&[8u8; 32])
            .open(IndexKind::Nik, &sealed)
            .is_err());
        assert!(vault().open(IndexKind::Nik, &sealed[..10]).is_err());
    }

    #[test]
    fn blind_index_is_deterministic_keyed_and_kind_separated() {
        let v = vault();
        let a = v.blind_index(IndexKind::Nik, "3201014505900001");
        assert_eq!(a, v.blind_index(IndexKind::Nik, "3201014505900001"));
        assert_ne!(a, v.blind_index(IndexKind::Kk, "3201014505900001"));
        assert_ne!(
            a,
            Vault::from_master(&[8u8; 32]).blind_index(IndexKind::Nik, "3201014505900001")
        );
    }

    #[test]
    fn master_key_parses_from_hex_or_base64_only() {
        let hex_key = "11".repeat(32);
        assert_eq!(Vault::parse_master(&hex_key).unwrap(), [0x11; 32]);
        let b64 = base64::engine::general_purpose::STANDARD.encode([3u8; 32]);
        assert_eq!(Vault::parse_master(&b64).unwrap(), [3u8; 32]);
        assert!(Vault::parse_master("short").is_err());
    }

    #[test]
    fn key_file_is_created_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/loket.key");
        let first = Vault::load(None, &path).unwrap();
        let sealed = first.seal(IndexKind::Kk, "x");
        let second = Vault::load(None, &path).unwrap();
        assert_eq!(second.open(IndexKind::Kk, &sealed).unwrap(), "x");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
