//! The key that seals secrets at rest: `BATON_SECRET_KEY`, else `secret.key` in the data
//! directory, created on first start.

use crate::{Config, ServeError};
use baton_core::store::SecretCipher;
use baton_store::ChaChaCipher;
use std::io::Write;
use std::sync::Arc;

const KEY_FILE: &str = "secret.key";

pub(crate) fn load_or_create(config: &Config) -> Result<Arc<dyn SecretCipher>, ServeError> {
    let key = match &config.secret_key {
        Some(key) => key.clone(),
        None => {
            let path = config.data_dir.join(KEY_FILE);
            match std::fs::read_to_string(&path) {
                Ok(key) => key,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    let key = ChaChaCipher::generate_key();
                    let mut options = std::fs::OpenOptions::new();
                    options.write(true).create_new(true);
                    #[cfg(unix)]
                    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
                    match options.open(&path) {
                        Ok(mut file) => {
                            file.write_all(key.as_bytes())?;
                            file.sync_all()?;
                            tracing::info!(path = %path.display(), "generated a new secret key");
                            key
                        }
                        // Another process created it between our read and our write.
                        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                            std::fs::read_to_string(&path)?
                        }
                        Err(e) => return Err(e.into()),
                    }
                }
                Err(e) => return Err(e.into()),
            }
        }
    };
    let cipher = ChaChaCipher::from_base64(&key).map_err(|e| ServeError::Secret(e.to_string()))?;
    Ok(Arc::new(cipher))
}
