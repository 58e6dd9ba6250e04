//! Push-notification configs as a service: the webhooks a client registered for a task's
//! updates, stored so every server sees them. Their token and credentials are sealed for the
//! webhook's origin and shown masked; only delivery opens them.

use crate::{Engine, EngineError};
use baton_core::id::{new_id, now_rfc3339};
use baton_core::push::{webhook_origin, PushConfigRecord};
use baton_core::secret::MASK;
use baton_core::store::StoreError;
use baton_core::{ProjectId, ValidationError};

/// The push-notification configs of tasks.
#[derive(Clone, Copy)]
pub struct PushConfigs<'a> {
    engine: &'a Engine,
}

/// A push-notification config: as a client sends it, as answers show it (secrets masked), or
/// as delivery uses it (secrets in clear).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PushConfig {
    /// The config's id within its task (made when empty).
    pub id: String,
    /// The task whose updates are sent.
    pub task_id: String,
    /// The webhook.
    pub url: String,
    /// The token sent with every notification; [`MASK`] keeps the stored one.
    pub token: Option<String>,
    /// How to authenticate to the webhook.
    pub auth: Option<PushAuth>,
}

/// The `Authorization` header a webhook is sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PushAuth {
    /// The scheme (`Bearer`, …).
    pub scheme: String,
    /// The credentials after the scheme; [`MASK`] keeps the stored ones.
    pub credentials: Option<String>,
}

impl Engine {
    /// The push-notification config service.
    pub fn push_configs(&self) -> PushConfigs<'_> {
        PushConfigs { engine: self }
    }
}

impl PushConfigs<'_> {
    /// Stores a config for the task (replacing the one with the same id) and returns it as
    /// answers show it. The caller checks that the task is theirs.
    pub async fn put(
        &self,
        project: &ProjectId,
        task_id: &str,
        config: PushConfig,
    ) -> Result<PushConfig, EngineError> {
        let origin = webhook_origin(&config.url)?;
        if !config.task_id.is_empty() && config.task_id != task_id {
            return Err(ValidationError::new(
                "taskId",
                format!("the config is for task `{task_id}`"),
            )
            .into());
        }
        let id = if config.id.is_empty() {
            new_id()
        } else {
            config.id
        };
        let store = &self.engine.inner.store;
        let stored = store
            .push_configs(project, task_id)
            .await?
            .into_iter()
            .find(|c| c.id == id && webhook_origin(&c.url).ok().as_deref() == Some(&origin));
        let token = self.sealed(
            "token",
            config.token,
            stored.as_ref().and_then(|s| s.token.clone()),
            &origin,
        )?;
        let (auth_scheme, auth_credentials) = match config.auth {
            None => (None, None),
            Some(auth) => (
                Some(auth.scheme),
                self.sealed(
                    "authentication.credentials",
                    auth.credentials,
                    stored.as_ref().and_then(|s| s.auth_credentials.clone()),
                    &origin,
                )?,
            ),
        };
        let record = PushConfigRecord {
            id,
            project_id: project.clone(),
            task_id: task_id.to_owned(),
            url: config.url,
            token,
            auth_scheme,
            auth_credentials,
            created: now_rfc3339(),
        };
        store.put_push_config(&record).await?;
        Ok(shown(record))
    }

    /// Seals a secret for `origin`; [`MASK`] keeps `stored` (sealed for the same origin).
    fn sealed(
        &self,
        field: &str,
        plain: Option<String>,
        stored: Option<String>,
        origin: &str,
    ) -> Result<Option<String>, EngineError> {
        let Some(plain) = plain.filter(|p| !p.is_empty()) else {
            return Ok(None);
        };
        if plain == MASK {
            return stored.map(Some).ok_or_else(|| {
                ValidationError::new(
                    field,
                    "is masked but no value is stored for this config and webhook origin",
                )
                .into()
            });
        }
        let cipher = self.engine.inner.cipher.as_ref();
        if !cipher.keeps_secrets() {
            return Err(ValidationError::new(field, "this engine keeps no secrets").into());
        }
        Ok(Some(cipher.seal_bound(&plain, origin)))
    }

    /// The task's configs as answers show them, in id order.
    pub async fn list(
        &self,
        project: &ProjectId,
        task_id: &str,
    ) -> Result<Vec<PushConfig>, EngineError> {
        Ok(self
            .engine
            .inner
            .store
            .push_configs(project, task_id)
            .await?
            .into_iter()
            .map(shown)
            .collect())
    }

    /// One config of the task as answers show it.
    pub async fn get(
        &self,
        project: &ProjectId,
        task_id: &str,
        id: &str,
    ) -> Result<Option<PushConfig>, EngineError> {
        Ok(self
            .list(project, task_id)
            .await?
            .into_iter()
            .find(|c| c.id == id))
    }

    /// Deletes one config of the task; `NotFound` naming it when the task has none such.
    pub async fn delete(
        &self,
        project: &ProjectId,
        task_id: &str,
        id: &str,
    ) -> Result<(), EngineError> {
        match self
            .engine
            .inner
            .store
            .delete_push_config(project, task_id, id)
            .await
        {
            Err(StoreError::NotFound) => Err(EngineError::NotFound(format!(
                "task `{task_id}` has no push notification config `{id}`"
            ))),
            other => Ok(other?),
        }
    }

    /// The task's configs with their secrets opened, to deliver with. A secret that does not
    /// open (another key, a moved URL) leaves its config out, with a warning.
    pub async fn for_delivery(
        &self,
        project: &ProjectId,
        task_id: &str,
    ) -> Result<Vec<PushConfig>, EngineError> {
        let cipher = self.engine.inner.cipher.as_ref();
        let mut out = Vec::new();
        for record in self
            .engine
            .inner
            .store
            .push_configs(project, task_id)
            .await?
        {
            let opened = webhook_origin(&record.url)
                .map_err(|e| e.to_string())
                .and_then(|origin| {
                    let open = |sealed: &Option<String>| {
                        sealed
                            .as_deref()
                            .map(|s| cipher.open_bound(s, &origin).map_err(|e| e.to_string()))
                            .transpose()
                    };
                    Ok((open(&record.token)?, open(&record.auth_credentials)?))
                });
            match opened {
                Ok((token, credentials)) => out.push(PushConfig {
                    id: record.id,
                    task_id: record.task_id,
                    url: record.url,
                    token,
                    auth: record.auth_scheme.map(|scheme| PushAuth {
                        scheme,
                        credentials,
                    }),
                }),
                Err(why) => tracing::warn!(task = %task_id, config = %record.id, error = %why,
                    "push notification config skipped: its secrets do not open"),
            }
        }
        Ok(out)
    }
}

/// A stored config as answers show it: secrets masked.
fn shown(record: PushConfigRecord) -> PushConfig {
    let mask = |sealed: Option<String>| sealed.map(|_| MASK.to_owned());
    PushConfig {
        id: record.id,
        task_id: record.task_id,
        url: record.url,
        token: mask(record.token),
        auth: record.auth_scheme.map(|scheme| PushAuth {
            scheme,
            credentials: mask(record.auth_credentials),
        }),
    }
}
