//! The per-kiosk key (`journal.key`, 64 bytes, mode 0600): the AES-256-GCM key that seals the
//! identifying part of a queued request, and the salt of the ID numbers' hashes.
use std::fs;
use std::io::Write;
use std::path::Path;

use ring::aead::{self, Aad, LessSafeKey, Nonce, UnboundKey};
use ring::hmac;
use zeroize::{Zeroize, Zeroizing};

use super::{Journal, JournalError, Result};

/// The per-kiosk key material.
pub(super) struct Keys {
    seal: LessSafeKey,
    salt: hmac::Key,
}

pub(super) fn load_keys(path: &Path) -> Result<Keys> {
    let io = |source| JournalError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut bytes = Zeroizing::new(match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut b = vec![0u8; 64];
            getrandom::fill(&mut b).map_err(|e| JournalError::Key(e.to_string()))?;
            let tmp = path.with_extension("key.tmp");
            let mut opts = fs::OpenOptions::new();
            opts.write(true).create(true).truncate(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                opts.mode(0o600);
            }
            let mut f = opts.open(&tmp).map_err(io)?;
            f.write_all(&b).map_err(io)?;
            f.sync_all().map_err(io)?;
            fs::rename(&tmp, path).map_err(io)?;
            b
        }
        Err(e) => return Err(io(e)),
    });
    if bytes.len() != 64 {
        return Err(JournalError::Key(format!(
            "{} has {} bytes, expected 64",
            path.display(),
            bytes.len()
        )));
    }
    let seal = UnboundKey::new(&aead::AES_256_GCM, &bytes[..32])
        .map_err(|_| JournalError::Key("bad sealing key".into()))?;
    let salt = hmac::Key::new(hmac::HMAC_SHA256, &bytes[32..]);
    bytes.zeroize();
    Ok(Keys {
        seal: LessSafeKey::new(seal),
        salt,
    })
}

impl Journal {
    pub(super) fn seal(&self, plain: &[u8], aad: &str) -> Result<Vec<u8>> {
        let mut nonce = [0u8; 12];
        getrandom::fill(&mut nonce).map_err(|e| JournalError::Key(e.to_string()))?;
        let mut buf = plain.to_vec();
        self.keys
            .seal
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad.as_bytes()),
                &mut buf,
            )
            .map_err(|_| JournalError::Key("sealing failed".into()))?;
        let mut out = nonce.to_vec();
        out.append(&mut buf);
        Ok(out)
    }

    pub(super) fn open_sealed(&self, sealed: &[u8], aad: &str) -> Result<Zeroizing<Vec<u8>>> {
        if sealed.len() < 12 + 16 {
            return Err(JournalError::Key("sealed part too short".into()));
        }
        let mut nonce = [0u8; 12];
        nonce.copy_from_slice(&sealed[..12]);
        let mut buf = Zeroizing::new(sealed[12..].to_vec());
        let n = self
            .keys
            .seal
            .open_in_place(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad.as_bytes()),
                &mut buf,
            )
            .map_err(|_| {
                JournalError::Key("a queued item cannot be opened with this kiosk's key".into())
            })?
            .len();
        buf.truncate(n);
        Ok(buf)
    }

    /// The masked ID and salted hash of an ID number, as the transaction log keeps them.
    pub fn id_digest(&self, id_number: &str) -> (String, String) {
        let id = id_number.trim().to_ascii_uppercase();
        let tag = hmac::sign(&self.keys.salt, id.as_bytes());
        (zizhu_drivers::privacy::mask(&id), hex::encode(tag.as_ref()))
    }
}
