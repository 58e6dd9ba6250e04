//! Push-notification configs: the webhooks a client registered for a task's updates (A2A's
//! `TaskPushNotificationConfig`), kept in the store so every server sees them and they outlive
//! a restart. Their token and credentials are secrets, sealed at rest for the webhook's origin.

use crate::store::StoreError;
use crate::ProjectId;

/// A stored push-notification config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushConfigRecord {
    /// The config's id, unique within its task.
    pub id: String,
    /// Owning project.
    pub project_id: ProjectId,
    /// The task whose updates are sent.
    pub task_id: String,
    /// The webhook.
    pub url: String,
    /// The token sent with every notification, sealed for the webhook's origin.
    pub token: Option<String>,
    /// The HTTP auth scheme of the `Authorization` header (`Bearer`, …).
    pub auth_scheme: Option<String>,
    /// The credentials sent with the scheme, sealed for the webhook's origin.
    pub auth_credentials: Option<String>,
    /// Creation time (RFC 3339).
    pub created: String,
}

/// Push-notification configs.
#[async_trait::async_trait]
pub trait PushConfigStore: Send + Sync {
    /// Stores a config, replacing the task's config with the same id.
    async fn put_push_config(&self, config: &PushConfigRecord) -> Result<(), StoreError>;

    /// The task's configs, in id order.
    async fn push_configs(
        &self,
        project: &ProjectId,
        task_id: &str,
    ) -> Result<Vec<PushConfigRecord>, StoreError>;

    /// Deletes one config of the task; `NotFound` if it has none with this id.
    async fn delete_push_config(
        &self,
        project: &ProjectId,
        task_id: &str,
        id: &str,
    ) -> Result<(), StoreError>;
}

/// The origin (`scheme://host:port`) a webhook's secrets are sealed for; the URL must be an
/// absolute http or https URL.
pub fn webhook_origin(url: &str) -> Result<String, crate::ValidationError> {
    let invalid = |why: &str| crate::ValidationError::new("url", why);
    let parsed = url::Url::parse(url).map_err(|e| invalid(&format!("not a URL: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(invalid("must be an http or https URL"));
    }
    crate::secret::url_origin(&parsed).ok_or_else(|| invalid("has no host"))
}
