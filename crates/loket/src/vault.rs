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

/// The two keys derived from one master key, and its fingerprint.
#[derive(Clone)]
struct KeyPair {
    aead: XChaCha20Poly1305,
    index_key: [u8; 32],
    audit_key: [u8; 32],
    fingerprint: String,
}

impl KeyPair {
    fn new(master: &[u8; 32]) -> KeyPair {
        let seal_key = derive(master, b"loket/seal/v1");
        KeyPair {
            aead: XChaCha20Poly1305::new(&seal_key.into()),
            index_key: derive(master, b"loket/blind-index/v1"),
            audit_key: derive(master, b"loket/audit-chain/v1"),
            // A third derived value: it names the key to an operator and reveals nothing of
            // the other two.
            fingerprint: hex::encode(&derive(master, b"loket/key-check/v1")[..8]),
        }
    }
}

/// A key ring: every key that may still protect stored data, by id; the highest id seals new
/// data. During a rotation rows sealed under the old key stay readable and findable.
#[derive(Clone)]
pub struct Vault {
    keys: std::collections::BTreeMap<u8, KeyPair>,
    current: u8,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault")
            .field("key_ids", &self.keys.keys().collect::<Vec<_>>())
            .field("current", &self.current)
            .finish()
    }
}

fn derive(master: &[u8; 32], label: &[u8]) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(master)
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    mac.update(label);
    mac.finalize().into_bytes().into()
}

/// Parses `"1:KEY,2:KEY"`, one `id KEY` per line, or a lone key (id 1).
fn parse_ring(text: &str) -> Result<Vec<(u8, [u8; 32])>, VaultError> {
    let entries: Vec<&str> = text
        .split([',', '\n'])
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .collect();
    if let [single] = entries.as_slice() {
        if !single.contains([':', ' ']) {
            return Ok(vec![(1, Vault::parse_master(single)?)]);
        }
    }
    entries
        .iter()
        .map(|e| {
            let (id, key) = e.split_once([':', ' ']).ok_or(VaultError::BadKey)?;
            let id: u8 = id.trim().parse().map_err(|_| VaultError::BadKey)?;
            Ok((id, Vault::parse_master(key)?))
        })
        .collect()
}

impl Vault {
    /// A ring with one key, id 1.
    pub fn from_master(master: &[u8; 32]) -> Vault {
        Vault::from_ring(&[(1, *master)])
            .unwrap_or_else(|_| unreachable!("one key is a valid ring"))
    }

    pub fn from_ring(keys: &[(u8, [u8; 32])]) -> Result<Vault, VaultError> {
        let current = keys
            .iter()
            .map(|(id, _)| *id)
            .max()
            .ok_or(VaultError::BadKey)?;
        Ok(Vault {
            keys: keys.iter().map(|(id, k)| (*id, KeyPair::new(k))).collect(),
            current,
        })
    }

    pub fn current_key_id(&self) -> u8 {
        self.current
    }

    /// The key of the audit chain, from the ring's first key: a rotation re-seals the data
    /// under a new key, but the chain written years ago must still verify, so the first key
    /// stays in the ring (it then only checks the audit log).
    pub fn audit_key(&self) -> [u8; 32] {
        self.keys
            .values()
            .next()
            .map(|p| p.audit_key)
            .unwrap_or_default()
    }

    pub fn key_ids(&self) -> Vec<u8> {
        self.keys.keys().copied().collect()
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

    /// Each key's fingerprint by id: what the database records to know its keys again.
    pub fn fingerprints(&self) -> Vec<(u8, String)> {
        self.keys
            .iter()
            .map(|(id, pair)| (*id, pair.fingerprint.clone()))
            .collect()
    }

    /// The ring from `LOKET_DATA_KEY` when given, else from `key_file`; `None` when neither
    /// exists. It never creates a key: see [`Vault::create_key_file`].
    pub fn read(env_key: Option<&str>, key_file: &Path) -> Result<Option<Vault>, VaultError> {
        if let Some(text) = env_key.filter(|t| !t.trim().is_empty()) {
            return Vault::from_ring(&parse_ring(text)?).map(Some);
        }
        if !key_file.exists() {
            return Ok(None);
        }
        let text = std::fs::read_to_string(key_file).map_err(|source| VaultError::KeyFile {
            path: key_file.display().to_string(),
            source,
        })?;
        Vault::from_ring(&parse_ring(&text)?).map(Some)
    }

    /// Writes a fresh random key to `key_file` (mode 0600; never over an existing file).
    pub fn create_key_file(key_file: &Path) -> Result<Vault, VaultError> {
        let io_err = |source| VaultError::KeyFile {
            path: key_file.display().to_string(),
            source,
        };
        let master = Vault::generate_master();
        write_private_file(
            key_file,
            &format!(
                "1 {}",
                base64::engine::general_purpose::STANDARD.encode(master)
            ),
        )
        .map_err(io_err)?;
        Ok(Vault::from_master(&master))
    }

    pub fn generate_master() -> [u8; 32] {
        let mut master = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut master);
        master
    }

    /// Adds a fresh key to the key file; it seals new data from the next start on.
    pub fn add_key_to_file(key_file: &Path) -> Result<u8, VaultError> {
        use std::io::Write;
        let io_err = |source| VaultError::KeyFile {
            path: key_file.display().to_string(),
            source,
        };
        let text = std::fs::read_to_string(key_file).map_err(io_err)?;
        let ring = parse_ring(&text)?;
        let next = ring
            .iter()
            .map(|(id, _)| *id)
            .max()
            .unwrap_or(0)
            .checked_add(1)
            .ok_or(VaultError::BadKey)?;
        let mut lines: Vec<String> = ring
            .iter()
            .map(|(id, k)| {
                format!(
                    "{id} {}",
                    base64::engine::general_purpose::STANDARD.encode(k)
                )
            })
            .collect();
        lines.push(format!(
            "{next} {}",
            base64::engine::general_purpose::STANDARD.encode(Vault::generate_master())
        ));
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .truncate(true)
            .open(key_file)
            .map_err(io_err)?;
        file.write_all(format!("{}\n", lines.join("\n")).as_bytes())
            .map_err(io_err)?;
        Ok(next)
    }

    /// Encrypts `plaintext` under the current key; the `context` (e.g. "nik") is authenticated
    /// so a sealed NIK cannot be swapped into the phone column unnoticed.
    pub fn seal(&self, context: IndexKind, plaintext: &str) -> Vec<u8> {
        let Some(pair) = self.keys.get(&self.current) else {
            return Vec::new();
        };
        let mut nonce = [0u8; NONCE_LEN];
        rand::thread_rng().fill_bytes(&mut nonce);
        let payload = Payload {
            msg: plaintext.as_bytes(),
            aad: context.label(),
        };
        // Encryption of an in-memory buffer with a valid key cannot fail.
        let ciphertext = pair
            .aead
            .encrypt(XNonce::from_slice(&nonce), payload)
            .unwrap_or_default();
        let mut out = Vec::with_capacity(2 + NONCE_LEN + ciphertext.len());
        out.push(FORMAT_V1);
        out.push(self.current);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ciphertext);
        out
    }

    /// The id of the key a sealed value was made with.
    pub fn key_id_of(sealed: &[u8]) -> Option<u8> {
        (sealed.len() >= 2 && sealed[0] == FORMAT_V1).then(|| sealed[1])
    }

    pub fn open(&self, context: IndexKind, sealed: &[u8]) -> Result<String, VaultError> {
        if sealed.len() < 2 + NONCE_LEN || sealed[0] != FORMAT_V1 {
            return Err(VaultError::CannotOpen);
        }
        let pair = self.keys.get(&sealed[1]).ok_or(VaultError::CannotOpen)?;
        let (nonce, ciphertext) = sealed[2..].split_at(NONCE_LEN);
        let payload = Payload {
            msg: ciphertext,
            aad: context.label(),
        };
        let plain = pair
            .aead
            .decrypt(XNonce::from_slice(nonce), payload)
            .map_err(|_| VaultError::CannotOpen)?;
        String::from_utf8(plain).map_err(|_| VaultError::CannotOpen)
    }

    fn index_with(pair: &KeyPair, kind: IndexKind, normalised: &str) -> Vec<u8> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&pair.index_key)
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        mac.update(kind.label());
        mac.update(&[0]);
        mac.update(normalised.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }

    /// Deterministic keyed digest (current key) for exact lookup of a normalised value.
    pub fn blind_index(&self, kind: IndexKind, normalised: &str) -> Vec<u8> {
        self.keys
            .get(&self.current)
            .map(|p| Vault::index_with(p, kind, normalised))
            .unwrap_or_default()
    }

    /// The digest under every key in the ring, current first: a lookup during a key rotation
    /// finds rows not yet re-indexed.
    pub fn blind_indexes(&self, kind: IndexKind, normalised: &str) -> Vec<Vec<u8>> {
        let mut all = vec![self.blind_index(kind, normalised)];
        all.extend(
            self.keys
                .iter()
                .filter(|(id, _)| **id != self.current)
                .map(|(_, p)| Vault::index_with(p, kind, normalised)),
        );
        all
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
    fn a_fingerprint_names_one_key_and_shows_none_of_it() {
        let prints = Vault::from_ring(&[(1, [7u8; 32]), (2, [9u8; 32])])
            .unwrap()
            .fingerprints();
        assert_eq!(prints.len(), 2);
        assert_eq!(prints[0], vault().fingerprints()[0]);
        assert_ne!(prints[0].1, prints[1].1);
        assert_eq!(prints[0].1.len(), 16);
        assert!(!prints[0].1.contains(&hex::encode([7u8; 8])));
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
    fn a_ring_opens_old_data_and_seals_under_the_newest_key() {
        let old = Vault::from_master(&[7u8; 32]);
        let sealed_old = old.seal(IndexKind::Nik, "3201014505900001");
        let ring = Vault::from_ring(&[(1, [7u8; 32]), (2, [9u8; 32])]).unwrap();
        assert_eq!(ring.current_key_id(), 2);
        assert_eq!(
            ring.open(IndexKind::Nik, &sealed_old).unwrap(),
            "3201014505900001"
        );
        let sealed_new = ring.seal(IndexKind::Nik, "x");
        assert_eq!(Vault::key_id_of(&sealed_new), Some(2));
        assert!(old.open(IndexKind::Nik, &sealed_new).is_err());
        let indexes = ring.blind_indexes(IndexKind::Nik, "3201014505900001");
        assert_eq!(indexes.len(), 2);
        assert_eq!(
            indexes[1],
            old.blind_index(IndexKind::Nik, "3201014505900001")
        );
        assert_ne!(indexes[0], indexes[1]);
    }

    #[test]
    fn rings_parse_from_env_lists_and_key_file_lines() {
        let k1 = base64::engine::general_purpose::STANDARD.encode([1u8; 32]);
        let k2 = "22".repeat(32);
        assert_eq!(parse_ring(&format!("1:{k1},2:{k2}")).unwrap().len(), 2);
        assert_eq!(
            parse_ring(&format!("1 {k1}\n2 {k2}\n")).unwrap()[1],
            (2, [0x22; 32])
        );
        assert_eq!(parse_ring(&k1).unwrap(), vec![(1, [1u8; 32])]);
        assert!(parse_ring("1:short").is_err());
    }

    #[test]
    fn a_key_added_to_the_file_becomes_current_and_the_old_one_stays() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("loket.key");
        let first = Vault::create_key_file(&path).unwrap();
        let sealed = first.seal(IndexKind::Kk, "3201010101010001");
        assert_eq!(Vault::add_key_to_file(&path).unwrap(), 2);
        let ring = Vault::read(None, &path).unwrap().unwrap();
        assert_eq!(ring.key_ids(), [1, 2]);
        assert_eq!(
            ring.open(IndexKind::Kk, &sealed).unwrap(),
            "3201010101010001"
        );
    }

    #[test]
    fn key_file_is_created_private_and_reused_never_made_by_reading() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/loket.key");
        assert!(Vault::read(None, &path).unwrap().is_none());
        assert!(!path.exists());
        let first = Vault::create_key_file(&path).unwrap();
        let sealed = first.seal(IndexKind::Kk, "x");
        let second = Vault::read(None, &path).unwrap().unwrap();
        assert_eq!(second.open(IndexKind::Kk, &sealed).unwrap(), "x");
        assert_eq!(second.fingerprints(), first.fingerprints());
        assert!(Vault::create_key_file(&path).is_err(), "never over a key");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
