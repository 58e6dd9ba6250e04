//! Secrets at rest: ChaCha20-Poly1305 with a 32-byte key, sealed as `enc:v1:<base64(nonce‖ct)>`,
//! or `enc:v2:…` when bound to a context (authenticated as associated data).

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use baton_core::store::{SecretCipher, SecretError};
use chacha20poly1305::aead::{Aead, KeyInit, OsRng, Payload};
use chacha20poly1305::{AeadCore, ChaCha20Poly1305, Key, Nonce};

const PREFIX: &str = "enc:v1:";
const BOUND: &str = "enc:v2:";

/// The server's secret cipher.
pub struct ChaChaCipher {
    cipher: ChaCha20Poly1305,
}

impl ChaChaCipher {
    /// A cipher from a 32-byte key given as base64 (as `BATON_SECRET_KEY` holds it).
    pub fn from_base64(key: &str) -> Result<Self, SecretError> {
        let bytes = B64
            .decode(key.trim())
            .map_err(|e| SecretError(format!("secret key is not base64: {e}")))?;
        if bytes.len() != 32 {
            return Err(SecretError(format!(
                "secret key must be 32 bytes, got {}",
                bytes.len()
            )));
        }
        Ok(Self {
            cipher: ChaCha20Poly1305::new(Key::from_slice(&bytes)),
        })
    }

    /// A new random key, as base64.
    pub fn generate_key() -> String {
        B64.encode(ChaCha20Poly1305::generate_key(&mut OsRng))
    }
}

impl ChaChaCipher {
    fn seal_with(&self, prefix: &str, plain: &str, aad: &[u8]) -> String {
        let nonce = ChaCha20Poly1305::generate_nonce(&mut OsRng);
        // Encryption with a fresh nonce and an in-memory buffer cannot fail.
        let ct = self
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plain.as_bytes(),
                    aad,
                },
            )
            .unwrap_or_default();
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        format!("{prefix}{}", B64.encode(out))
    }

    fn open_with(&self, body: &str, aad: &[u8]) -> Result<String, SecretError> {
        let raw = B64
            .decode(body)
            .map_err(|e| SecretError(format!("bad encoding: {e}")))?;
        if raw.len() < 12 {
            return Err(SecretError("too short".into()));
        }
        let (nonce, ct) = raw.split_at(12);
        let plain = self
            .cipher
            .decrypt(Nonce::from_slice(nonce), Payload { msg: ct, aad })
            .map_err(|_| SecretError("wrong key, wrong context or tampered value".into()))?;
        String::from_utf8(plain).map_err(|_| SecretError("not UTF-8".into()))
    }
}

impl SecretCipher for ChaChaCipher {
    fn seal(&self, plain: &str) -> String {
        self.seal_with(PREFIX, plain, b"")
    }

    fn open(&self, sealed: &str) -> Result<String, SecretError> {
        let body = sealed
            .strip_prefix(PREFIX)
            .ok_or_else(|| SecretError("not a sealed secret".into()))?;
        self.open_with(body, b"")
    }

    fn seal_bound(&self, plain: &str, context: &str) -> String {
        self.seal_with(BOUND, plain, context.as_bytes())
    }

    fn open_bound(&self, sealed: &str, context: &str) -> Result<String, SecretError> {
        match sealed.strip_prefix(BOUND) {
            Some(body) => self.open_with(body, context.as_bytes()),
            None => self.open(sealed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_and_opens() {
        let c = ChaChaCipher::from_base64(&ChaChaCipher::generate_key()).unwrap();
        let sealed = c.seal("Bearer s3cret");
        assert!(sealed.starts_with(PREFIX));
        assert!(!sealed.contains("s3cret"));
        assert_ne!(sealed, c.seal("Bearer s3cret"), "nonces differ");
        assert_eq!(c.open(&sealed).unwrap(), "Bearer s3cret");
        let other = ChaChaCipher::from_base64(&ChaChaCipher::generate_key()).unwrap();
        assert!(other.open(&sealed).is_err());
        assert!(ChaChaCipher::from_base64("c2hvcnQ=").is_err());
    }

    #[test]
    fn bound_values_open_only_in_their_context() {
        let c = ChaChaCipher::from_base64(&ChaChaCipher::generate_key()).unwrap();
        let bound = c.seal_bound("Bearer s3cret", "https://api.example.com:443");
        assert!(bound.starts_with(BOUND) && !bound.contains("s3cret"));
        assert_eq!(
            c.open_bound(&bound, "https://api.example.com:443").unwrap(),
            "Bearer s3cret"
        );
        assert!(c
            .open_bound(&bound, "https://evil.example.com:443")
            .is_err());
        assert!(c.open(&bound).is_err(), "a bound value needs its context");
        // Values sealed before binding still open.
        let legacy = c.seal("old");
        assert_eq!(c.open_bound(&legacy, "anything").unwrap(), "old");
    }
}
