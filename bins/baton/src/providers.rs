//! The model gateway from the resolved provider configuration: one client per provider, the
//! price table with `baton.toml` overrides, retries and fallbacks.

use crate::config::{ProviderKind, ResolvedProvider};
use crate::ServeError;
use baton_core::model::ModelGateway;
use baton_engine::gateway::{Gateway, Registry};
use baton_engine::prices::PriceTable;
use baton_providers::{Flavor, ProviderSettings};
use std::sync::Arc;

pub(crate) fn gateway(providers: &[ResolvedProvider]) -> Result<Arc<dyn ModelGateway>, ServeError> {
    // HTTP/1.1 only, as before reqwest could speak HTTP/2 (built in for the tests' clients): a
    // provider offering h2 over TLS would otherwise carry every call on one connection.
    let http = reqwest::Client::builder()
        .http1_only()
        .pool_max_idle_per_host(256)
        .build()
        .map_err(|e| ServeError::Providers(e.to_string()))?;
    let mut prices = PriceTable::default();
    let mut settings = Vec::with_capacity(providers.len());
    let mut not_set_up = Vec::new();
    for p in providers {
        if !p.is_set_up() {
            not_set_up.push((p.name.clone(), p.what_to_set()));
            continue;
        }
        let flavor = match p.kind {
            ProviderKind::OpenAi => Flavor::OpenAi,
            ProviderKind::Anthropic => Flavor::Anthropic,
            ProviderKind::Gemini => Flavor::Gemini,
        };
        for (model, price) in &p.prices {
            prices.set(&format!("{}/{model}", p.name), price.input, price.output);
        }
        settings.push(ProviderSettings {
            name: p.name.clone(),
            base_url: p
                .base_url
                .clone()
                .unwrap_or_else(|| flavor.default_base_url().to_owned()),
            flavor,
            api_key: p.api_key.clone(),
        });
        tracing::debug!(provider = %p, "model provider");
    }
    log_set_up(providers);
    let mut registry: Registry = baton_providers::clients(settings, http)
        .into_iter()
        .collect();
    for (name, what_to_set) in not_set_up {
        registry.not_set_up(name, what_to_set);
    }
    Ok(Arc::new(Gateway::new(registry, prices)))
}

/// Says at start which providers runs can use: names only, never keys or URLs.
fn log_set_up(providers: &[ResolvedProvider]) {
    let names = |set_up: bool| {
        providers
            .iter()
            .filter(|p| p.is_set_up() == set_up)
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let (ready, not_ready) = (names(true), names(false));
    if ready.is_empty() {
        tracing::warn!(
            "no model provider is set up, so runs will fail: set OPENAI_API_KEY, \
             ANTHROPIC_API_KEY or GEMINI_API_KEY, or OPENAI_BASE_URL for an OpenAI-compatible \
             server (such as the bundled baton-fake)"
        );
    } else {
        tracing::info!(set_up = %ready, not_set_up = %not_ready, "model providers");
    }
}
