//! The model gateway from the resolved provider configuration: one client per provider, the
//! price table with `baton.toml` overrides, retries and fallbacks.

use crate::config::{ProviderKind, ResolvedProvider};
use crate::ServeError;
use baton_core::model::ModelGateway;
use baton_providers::{Flavor, Gateway, PriceTable, ProviderSettings, Registry};
use std::sync::Arc;

pub(crate) fn gateway(providers: &[ResolvedProvider]) -> Result<Arc<dyn ModelGateway>, ServeError> {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()
        .map_err(|e| ServeError::Providers(e.to_string()))?;
    let mut prices = PriceTable::default();
    let mut settings = Vec::with_capacity(providers.len());
    for p in providers {
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
    let registry = Registry::from_settings(settings, http);
    Ok(Arc::new(Gateway::new(registry, prices)))
}
