//! Push notifications: a task's updates POSTed to the webhooks its clients registered, with
//! retries. Configs are stored through the engine (any server sees them, they outlive a
//! restart, their secrets are sealed and answered masked); updates are read from the task's
//! stored events, so they are sent by whichever server runs the task's turn.

use super::error::{A2aError, A2aErrorKind};
use super::service;
use super::types::{
    A2aAuthenticationInfo, A2aListPushConfigsResponse, A2aStreamResponse,
    A2aTaskPushNotificationConfig,
};
use crate::auth::Caller;
use crate::state::AppState;
use baton_core::store::TaskRecord;
use baton_core::ProjectId;
use baton_engine::push::{PushAuth, PushConfig};
use baton_engine::Engine;
use futures_util::StreamExt;
use std::collections::HashSet;
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
    /// Tasks whose events this process is sending.
    watching: Arc<Mutex<HashSet<String>>>,
}

impl PushSender {
    /// A sender over `client` (policy-checked DNS), refusing literal addresses `check` refuses.
    pub fn new(client: reqwest::Client, check: AddressCheck) -> Self {
        Self {
            client,
            check,
            watching: Arc::default(),
        }
    }

    fn watching(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        self.watching.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sends `update` to every webhook of the task (as stored now), each tried up to three
    /// times.
    async fn deliver(
        &self,
        engine: &Engine,
        project: &ProjectId,
        task_id: &str,
        update: &A2aStreamResponse,
    ) {
        let configs = match engine.push_configs().for_delivery(project, task_id).await {
            Ok(configs) => configs,
            Err(e) => {
                tracing::warn!(task = %task_id, error = %e, "push notification configs unreadable");
                return;
            }
        };
        for config in configs {
            if let Err(e) = self.deliver_one(&config, update).await {
                tracing::warn!(task = %task_id, config = %config.id, error = %e,
                    "push notification not delivered");
            }
        }
    }

    async fn deliver_one(
        &self,
        config: &PushConfig,
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
            if let Some(auth) = &config.auth {
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
    caller: &Caller,
    task_id: &str,
    config: A2aTaskPushNotificationConfig,
) -> Result<A2aTaskPushNotificationConfig, A2aError> {
    sender(state)?;
    let stored = state
        .engine
        .push_configs()
        .put(&caller.project, task_id, from_wire(config))
        .await?;
    Ok(to_wire(stored))
}

fn from_wire(config: A2aTaskPushNotificationConfig) -> PushConfig {
    PushConfig {
        id: config.id,
        task_id: config.task_id,
        url: config.url,
        token: config.token,
        auth: config.authentication.map(|a| PushAuth {
            scheme: a.scheme,
            credentials: a.credentials,
        }),
    }
}

fn to_wire(config: PushConfig) -> A2aTaskPushNotificationConfig {
    A2aTaskPushNotificationConfig {
        tenant: None,
        id: config.id,
        task_id: config.task_id,
        url: config.url,
        token: config.token,
        authentication: config.auth.map(|a| A2aAuthenticationInfo {
            scheme: a.scheme,
            credentials: a.credentials,
        }),
    }
}

/// Starts sending the task's updates to its webhooks, unless this process does already or it
/// has none.
pub(crate) async fn watch(state: &AppState, task: &TaskRecord) {
    let Some(push) = state.push.clone() else {
        return;
    };
    let has_configs = state
        .engine
        .push_configs()
        .list(&task.project_id, &task.id)
        .await
        .is_ok_and(|c| !c.is_empty());
    if !has_configs || !push.watching().insert(task.id.clone()) {
        return;
    }
    let Ok(data) = Engine::data(task) else {
        push.watching().remove(&task.id);
        return;
    };
    let engine = state.engine.clone();
    let events = engine.follow(&task.project_id, &task.id, data.event_seq);
    let first = super::convert::task(task, &data, super::convert::View::FULL);
    let mut updates = service::updates(
        engine.clone(),
        task.clone(),
        first,
        events,
        service::Live::Whole,
    );
    let (project, task_id) = (task.project_id.clone(), task.id.clone());
    tokio::spawn(async move {
        while let Some(update) = updates.next().await {
            push.deliver(&engine, &project, &task_id, &update).await;
        }
        push.watching().remove(&task_id);
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
        watch(state, &task).await;
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
    sender(state)?;
    service::find(state, caller, agent_key, task_id).await?;
    state
        .engine
        .push_configs()
        .get(&caller.project, task_id, id)
        .await?
        .map(to_wire)
        .ok_or_else(|| {
            A2aError::new(
                A2aErrorKind::TaskNotFound,
                format!("task `{task_id}` has no push notification config `{id}`"),
            )
        })
}

/// `ListTaskPushNotificationConfigs`.
pub(crate) async fn list(
    state: &AppState,
    caller: &Caller,
    agent_key: &str,
    task_id: &str,
) -> Result<A2aListPushConfigsResponse, A2aError> {
    sender(state)?;
    service::find(state, caller, agent_key, task_id).await?;
    let configs = state
        .engine
        .push_configs()
        .list(&caller.project, task_id)
        .await?;
    Ok(A2aListPushConfigsResponse {
        configs: configs.into_iter().map(to_wire).collect(),
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
    sender(state)?;
    service::find(state, caller, agent_key, task_id).await?;
    state
        .engine
        .push_configs()
        .delete(&caller.project, task_id, id)
        .await?;
    Ok(())
}
