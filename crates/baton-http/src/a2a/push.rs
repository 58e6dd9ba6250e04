//! Push notifications: a task's updates POSTed to the webhooks its clients registered, with
//! retries. Configs live in the process that accepted them (they end with it); updates are
//! read from the task's stored events, so they are sent whichever server runs the task.

use super::error::{A2aError, A2aErrorKind};
use super::service;
use super::types::{A2aListPushConfigsResponse, A2aStreamResponse, A2aTaskPushNotificationConfig};
use crate::auth::Caller;
use crate::state::AppState;
use baton_core::store::TaskRecord;
use baton_engine::Engine;
use futures_util::StreamExt;
use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Checks a webhook's literal IP address against the outbound policy (names are checked when
/// the client resolves them).
pub type AddressCheck = Arc<dyn Fn(IpAddr) -> Result<(), String> + Send + Sync>;

/// How many times a notification is tried, and the waits between tries.
const BACKOFF: [Duration; 2] = [Duration::from_millis(250), Duration::from_secs(1)];
/// How long one try may take.
const TRY_TIMEOUT: Duration = Duration::from_secs(10);

/// Sends push notifications; present when the server was given an outbound HTTP client.
#[derive(Clone)]
pub struct PushSender {
    client: reqwest::Client,
    check: AddressCheck,
    registry: Arc<Mutex<Registry>>,
}

#[derive(Default)]
struct Registry {
    /// Task id → its configs.
    configs: HashMap<String, Vec<A2aTaskPushNotificationConfig>>,
    /// Tasks whose events are being sent.
    watching: HashSet<String>,
}

impl PushSender {
    /// A sender over `client` (policy-checked DNS), refusing literal addresses `check` refuses.
    pub fn new(client: reqwest::Client, check: AddressCheck) -> Self {
        Self {
            client,
            check,
            registry: Arc::default(),
        }
    }

    fn registry(&self) -> std::sync::MutexGuard<'_, Registry> {
        self.registry.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn configs(&self, task_id: &str) -> Vec<A2aTaskPushNotificationConfig> {
        self.registry()
            .configs
            .get(task_id)
            .cloned()
            .unwrap_or_default()
    }

    /// Sends `update` to every webhook of the task, each tried up to three times.
    async fn deliver(&self, task_id: &str, update: &A2aStreamResponse) {
        for config in self.configs(task_id) {
            if let Err(e) = self.deliver_one(&config, update).await {
                tracing::warn!(task = %task_id, config = %config.id, error = %e,
                    "push notification not delivered");
            }
        }
    }

    async fn deliver_one(
        &self,
        config: &A2aTaskPushNotificationConfig,
        update: &A2aStreamResponse,
    ) -> Result<(), String> {
        let url = reqwest::Url::parse(&config.url).map_err(|e| e.to_string())?;
        if let Some(ip) = url
            .host_str()
            .map(|h| h.trim_start_matches('[').trim_end_matches(']'))
            .and_then(|h| h.parse::<IpAddr>().ok())
        {
            (self.check)(ip)?;
        }
        let mut last = String::new();
        for attempt in 0..=BACKOFF.len() {
            if attempt > 0 {
                tokio::time::sleep(BACKOFF[attempt - 1]).await;
            }
            let mut request = self
                .client
                .post(url.clone())
                .timeout(TRY_TIMEOUT)
                .json(update);
            if let Some(token) = &config.token {
                request = request.header("X-A2A-Notification-Token", token);
            }
            if let Some(auth) = &config.authentication {
                let value = match &auth.credentials {
                    Some(credentials) => format!("{} {credentials}", auth.scheme),
                    None => auth.scheme.clone(),
                };
                request = request.header(reqwest::header::AUTHORIZATION, value);
            }
            match request.send().await {
                Ok(response) if response.status().is_success() => return Ok(()),
                Ok(response) => last = format!("the webhook answered {}", response.status()),
                Err(e) => last = e.to_string(),
            }
        }
        Err(last)
    }
}

fn sender(state: &AppState) -> Result<&PushSender, A2aError> {
    state.push.as_ref().ok_or_else(|| {
        A2aError::new(
            A2aErrorKind::PushNotSupported,
            "push notifications are not enabled on this server",
        )
    })
}

/// Stores a config for the task (a new id when it has none); the task must be the caller's.
pub(crate) async fn register(
    state: &AppState,
    _caller: &Caller,
    task_id: &str,
    mut config: A2aTaskPushNotificationConfig,
) -> Result<A2aTaskPushNotificationConfig, A2aError> {
    let push = sender(state)?;
    let url = reqwest::Url::parse(&config.url)
        .map_err(|e| A2aError::params(format!("url: not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(A2aError::params("url: must be an http or https URL"));
    }
    if !config.task_id.is_empty() && config.task_id != task_id {
        return Err(A2aError::params(format!(
            "taskId: the config is for task `{task_id}`"
        )));
    }
    config.task_id = task_id.to_owned();
    config.tenant = None;
    if config.id.is_empty() {
        config.id = baton_core::id::new_id();
    }
    let mut registry = push.registry();
    let configs = registry.configs.entry(task_id.to_owned()).or_default();
    configs.retain(|c| c.id != config.id);
    configs.push(config.clone());
    Ok(config)
}

/// Starts sending the task's updates to its webhooks, unless that is under way or it has none.
pub(crate) fn watch(state: &AppState, task: &TaskRecord) {
    let Some(push) = state.push.clone() else {
        return;
    };
    {
        let mut registry = push.registry();
        if !registry.configs.contains_key(&task.id) || !registry.watching.insert(task.id.clone()) {
            return;
        }
    }
    let Ok(data) = Engine::data(task) else {
        push.registry().watching.remove(&task.id);
        return;
    };
    let engine = state.engine.clone();
    let events = engine.follow(&task.project_id, &task.id, data.event_seq);
    let first = super::convert::task(task, &data, super::convert::View::FULL);
    let mut updates = service::updates(engine, task.clone(), first, events);
    let task_id = task.id.clone();
    tokio::spawn(async move {
        while let Some(update) = updates.next().await {
            push.deliver(&task_id, &update).await;
        }
        push.registry().watching.remove(&task_id);
    });
}

/// `CreateTaskPushNotificationConfig`.
pub(crate) async fn create(
    state: &AppState,
    caller: &Caller,
    agent_key: &str,
    task_id: &str,
    config: A2aTaskPushNotificationConfig,
) -> Result<A2aTaskPushNotificationConfig, A2aError> {
    sender(state)?;
    let task = service::find(state, caller, agent_key, task_id).await?;
    let config = register(state, caller, &task.id, config).await?;
    if !task.state.is_inactive() {
        watch(state, &task);
    }
    Ok(config)
}

/// `GetTaskPushNotificationConfig`.
pub(crate) async fn get(
    state: &AppState,
    caller: &Caller,
    agent_key: &str,
    task_id: &str,
    id: &str,
) -> Result<A2aTaskPushNotificationConfig, A2aError> {
    let push = sender(state)?;
    service::find(state, caller, agent_key, task_id).await?;
    push.configs(task_id)
        .into_iter()
        .find(|c| c.id == id)
        .ok_or_else(|| config_not_found(task_id, id))
}

fn config_not_found(task_id: &str, id: &str) -> A2aError {
    A2aError::new(
        A2aErrorKind::TaskNotFound,
        format!("task `{task_id}` has no push notification config `{id}`"),
    )
}

/// `ListTaskPushNotificationConfigs`.
pub(crate) async fn list(
    state: &AppState,
    caller: &Caller,
    agent_key: &str,
    task_id: &str,
) -> Result<A2aListPushConfigsResponse, A2aError> {
    let push = sender(state)?;
    service::find(state, caller, agent_key, task_id).await?;
    Ok(A2aListPushConfigsResponse {
        configs: push.configs(task_id),
        next_page_token: String::new(),
    })
}

/// `DeleteTaskPushNotificationConfig`.
pub(crate) async fn delete(
    state: &AppState,
    caller: &Caller,
    agent_key: &str,
    task_id: &str,
    id: &str,
) -> Result<(), A2aError> {
    let push = sender(state)?;
    service::find(state, caller, agent_key, task_id).await?;
    let mut registry = push.registry();
    let configs = registry.configs.entry(task_id.to_owned()).or_default();
    let before = configs.len();
    configs.retain(|c| c.id != id);
    if configs.len() == before {
        return Err(config_not_found(task_id, id));
    }
    if configs.is_empty() {
        registry.configs.remove(task_id);
    }
    Ok(())
}
