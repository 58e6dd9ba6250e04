//! The model gateway: each model in order with its retry policy (exponential backoff with full
//! jitter, honouring `Retry-After`), then the next fallback; cost from the price table. It calls
//! providers through a [`Registry`] by name, whatever implements them: `baton-providers`' vendor
//! clients or an embedding program's own.

use crate::prices::PriceTable;
use async_trait::async_trait;
use baton_core::agent::{ModelConfig, RetryPolicy};
use baton_core::model::{
    Attempt, ChatRequest, ChatResponse, DeltaSink, GatewayError, ModelGateway, ModelProvider,
    ModelReply, ProviderError, ProviderErrorKind, StreamDelta,
};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Providers by name, and what is missing for those known but not set up.
#[derive(Clone, Default)]
pub struct Registry {
    providers: HashMap<String, Arc<dyn ModelProvider>>,
    not_set_up: HashMap<String, String>,
}

impl Registry {
    /// Adds (or replaces) a provider under its name.
    pub fn insert(&mut self, provider: Arc<dyn ModelProvider>) {
        self.not_set_up.remove(provider.name());
        self.providers.insert(provider.name().to_owned(), provider);
    }

    /// Records a provider that is known but lacks credentials: models naming it fail at once
    /// with `what_to_set` (e.g. "set OPENAI_API_KEY") instead of calling out.
    pub fn not_set_up(&mut self, name: impl Into<String>, what_to_set: impl Into<String>) {
        let name = name.into();
        self.providers.remove(&name);
        self.not_set_up.insert(name, what_to_set.into());
    }

    /// The provider with this name.
    pub fn get(&self, name: &str) -> Option<Arc<dyn ModelProvider>> {
        self.providers.get(name).cloned()
    }

    /// Why there is no provider `name`, for error messages.
    pub fn why_missing(&self, name: &str) -> String {
        match self.not_set_up.get(name) {
            Some(what_to_set) => format!("provider `{name}` is not set up: {what_to_set}"),
            None => format!("no provider `{name}` is configured"),
        }
    }
}

impl FromIterator<Arc<dyn ModelProvider>> for Registry {
    fn from_iter<I: IntoIterator<Item = Arc<dyn ModelProvider>>>(iter: I) -> Self {
        let mut registry = Self::default();
        for provider in iter {
            registry.insert(provider);
        }
        registry
    }
}

/// Calls models through a [`Registry`] with retries and fallbacks.
pub struct Gateway {
    registry: Registry,
    prices: PriceTable,
    base_backoff: Duration,
    max_backoff: Duration,
}

impl Gateway {
    /// A gateway with 250 ms base backoff, capped at 10 s.
    pub fn new(registry: Registry, prices: PriceTable) -> Self {
        Self {
            registry,
            prices,
            base_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(10),
        }
    }

    /// Changes the backoff (tests use a few milliseconds).
    pub fn with_backoff(mut self, base: Duration, max: Duration) -> Self {
        self.base_backoff = base;
        self.max_backoff = max;
        self
    }

    fn backoff(&self, retry: u32, retry_after: Option<f64>) -> Duration {
        let ceiling = self
            .base_backoff
            .saturating_mul(1u32 << retry.min(16))
            .min(self.max_backoff);
        let jittered = ceiling.mul_f64(rand::random::<f64>());
        let asked = retry_after
            .filter(|s| s.is_finite() && *s >= 0.0)
            .map(Duration::from_secs_f64)
            .unwrap_or_default();
        jittered.max(asked).min(self.max_backoff)
    }
}

fn not_configured(model: &str, why: &str) -> ProviderError {
    ProviderError {
        provider: model
            .split(['/', ':'])
            .next()
            .unwrap_or_default()
            .to_owned(),
        kind: ProviderErrorKind::NotConfigured,
        status: None,
        message: format!("model `{model}`: {why}"),
        retry_after: None,
    }
}

impl Gateway {
    /// The provider a model names, with the request shaped for it in place (the model's name,
    /// and its default parameters over `parameters`, the request's own), so the conversation,
    /// the bulk of a request, is not copied per model; why not when the model names no
    /// configured provider.
    fn route(
        &self,
        model: &ModelConfig,
        request: &mut ChatRequest<'_>,
        parameters: &Map<String, Value>,
    ) -> Result<Arc<dyn ModelProvider>, ProviderError> {
        let Some((provider_name, model_name)) = model.provider_and_model() else {
            return Err(not_configured(&model.id, "name it `provider/model`"));
        };
        let Some(provider) = self.registry.get(provider_name) else {
            return Err(not_configured(
                &model.id,
                &self.registry.why_missing(provider_name),
            ));
        };
        model_name.clone_into(&mut request.model);
        request.parameters.clone_from(parameters);
        if let Some(params) = &model.parameters {
            for (k, v) in params {
                request
                    .parameters
                    .entry(k.clone())
                    .or_insert_with(|| v.clone());
            }
        }
        Ok(provider)
    }
}

/// One call to a provider: its result, whether it streamed any delta, and how long it took.
async fn call_once(
    provider: &dyn ModelProvider,
    req: &ChatRequest<'_>,
    on_delta: Option<DeltaSink<'_>>,
) -> (Result<ChatResponse, ProviderError>, bool, u64) {
    let started = Instant::now();
    let emitted = AtomicBool::new(false);
    let result = match on_delta {
        Some(sink) => {
            let tracked = |d: StreamDelta| {
                emitted.store(true, Ordering::Relaxed);
                sink(d)
            };
            provider.stream(req, &tracked).await
        }
        None => provider.complete(req).await,
    };
    let duration_ms = started.elapsed().as_millis() as u64;
    (result, emitted.load(Ordering::Relaxed), duration_ms)
}

#[async_trait]
impl ModelGateway for Gateway {
    async fn chat(
        &self,
        models: &[ModelConfig],
        mut request: ChatRequest<'_>,
        on_delta: Option<DeltaSink<'_>>,
    ) -> Result<ModelReply, GatewayError> {
        let mut attempts = Vec::new();
        let mut last = not_configured("(none)", "no model configured");
        let parameters = std::mem::take(&mut request.parameters);
        for model in models {
            let provider = match self.route(model, &mut request, &parameters) {
                Ok(routed) => routed,
                Err(e) => {
                    attempts.push(Attempt {
                        model: model.id.clone(),
                        error: Some(e.clone()),
                        duration_ms: 0,
                    });
                    last = e;
                    continue;
                }
            };
            let policy = model.retry.clone().unwrap_or_else(RetryPolicy::default);
            for attempt in 0..=policy.count {
                let (result, emitted, duration_ms) =
                    call_once(provider.as_ref(), &request, on_delta).await;
                attempts.push(Attempt {
                    model: model.id.clone(),
                    error: result.as_ref().err().cloned(),
                    duration_ms,
                });
                match result {
                    Ok(response) => {
                        let cost = self.prices.cost(&model.id, &response.usage);
                        return Ok(ModelReply {
                            response,
                            model: model.id.clone(),
                            cost,
                            attempts,
                        });
                    }
                    Err(e) => {
                        tracing::warn!(model = %model.id, attempt, error = %e, "model call failed");
                        // A stream that already showed text cannot be retried without repeating it.
                        let retry =
                            attempt < policy.count && e.is_retryable(&policy.on_codes) && !emitted;
                        let wait = self.backoff(attempt, e.retry_after);
                        last = e;
                        if !retry {
                            break;
                        }
                        tokio::time::sleep(wait).await;
                    }
                }
            }
        }
        Err(GatewayError { last, attempts })
    }

    async fn embed(&self, model: &str, inputs: &[String]) -> Result<Vec<Vec<f32>>, ProviderError> {
        let config = ModelConfig::named(model);
        let Some((provider_name, model_name)) = config.provider_and_model() else {
            return Err(not_configured(model, "name it `provider/model`"));
        };
        let Some(provider) = self.registry.get(provider_name) else {
            return Err(not_configured(
                model,
                &self.registry.why_missing(provider_name),
            ));
        };
        let policy = RetryPolicy::default();
        let mut attempt = 0;
        loop {
            match provider.embed(model_name, inputs).await {
                Ok(vectors) => return Ok(vectors),
                Err(e) if attempt < policy.count && e.is_retryable(&policy.on_codes) => {
                    tokio::time::sleep(self.backoff(attempt, e.retry_after)).await;
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }
}
