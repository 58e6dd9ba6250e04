//! The engine builder: providers, tools, a store, and defaults for the rest.

use super::defaults::{NoBackend, NoCipher, WithTools};
use crate::gateway::{Gateway, Registry};
use crate::prices::PriceTable;
use crate::{invalid, Engine, EngineConfig, EngineError};
use baton_core::handler::{Runnable, Tool, ToolBackend, ToolHandler};
use baton_core::model::{ModelGateway, ModelProvider, ToolDefinition};
use baton_core::store::{SecretCipher, Store};
use std::collections::HashMap;
use std::sync::Arc;

/// Builds an [`Engine`]: `Engine::builder().provider(p).tool(my_tool).store(s).build()`.
#[must_use]
pub struct EngineBuilder {
    store: Option<Arc<dyn Store>>,
    registry: Registry,
    prices: PriceTable,
    gateway: Option<Arc<dyn ModelGateway>>,
    cipher: Option<Arc<dyn SecretCipher>>,
    backend: Option<Arc<dyn ToolBackend>>,
    tools: HashMap<String, Runnable>,
    config: EngineConfig,
}

impl Engine {
    /// Starts building an engine (see [`EngineBuilder`]).
    pub fn builder() -> EngineBuilder {
        EngineBuilder {
            store: None,
            registry: Registry::default(),
            prices: PriceTable::default(),
            gateway: None,
            cipher: None,
            backend: None,
            tools: HashMap::new(),
            config: EngineConfig::default(),
        }
    }
}

impl EngineBuilder {
    /// Adds a model provider; agents name its models `{provider.name()}/{model}`.
    pub fn provider(self, provider: impl ModelProvider + 'static) -> Self {
        self.providers([Arc::new(provider) as Arc<dyn ModelProvider>])
    }

    /// Adds shared providers (e.g. `baton_providers::clients(settings, http)`).
    pub fn providers(
        mut self,
        providers: impl IntoIterator<Item = Arc<dyn ModelProvider>>,
    ) -> Self {
        for provider in providers {
            self.registry.insert(provider);
        }
        self
    }

    /// Model prices for usage costs (default: list prices of common models).
    pub fn prices(mut self, prices: PriceTable) -> Self {
        self.prices = prices;
        self
    }

    /// A gateway of one's own instead of the providers' (retries and fallbacks included).
    pub fn gateway(mut self, gateway: Arc<dyn ModelGateway>) -> Self {
        self.gateway = Some(gateway);
        self
    }

    /// Registers a typed in-process tool; an agent offers it by listing its name
    /// (`Agent::tool(T::NAME)`).
    pub fn tool<T: Tool>(self, tool: T) -> Self {
        self.runnable(Runnable::from_tool(tool))
    }

    /// Registers an in-process tool on JSON values, described by `definition`.
    pub fn tool_handler(
        self,
        definition: ToolDefinition,
        handler: impl ToolHandler + 'static,
    ) -> Self {
        let handler: Arc<dyn ToolHandler> = Arc::new(handler);
        self.runnable(Runnable {
            definition,
            handler,
        })
    }

    /// Registers a runnable tool (a definition and its handler).
    pub fn runnable(mut self, runnable: Runnable) -> Self {
        self.tools
            .insert(runnable.definition.name.clone(), runnable);
        self
    }

    /// Where agents, tasks and traces live: `MemoryStore`, or a `SqlStore` for durable runs.
    pub fn store(self, store: impl Store + 'static) -> Self {
        self.shared_store(Arc::new(store))
    }

    /// Like [`EngineBuilder::store`], for a store shared with other code.
    pub fn shared_store(mut self, store: Arc<dyn Store>) -> Self {
        self.store = Some(store);
        self
    }

    /// Seals secret variables and headers at rest (without one, secrets are refused).
    pub fn cipher(mut self, cipher: impl SecretCipher + 'static) -> Self {
        self.cipher = Some(Arc::new(cipher));
        self
    }

    /// Runs HTTP, code and MCP tools (e.g. `baton-tools`' runtime); registered tools come first.
    pub fn tool_backend(mut self, backend: Arc<dyn ToolBackend>) -> Self {
        self.backend = Some(backend);
        self
    }

    /// Worker, lease and scheduler settings.
    pub fn config(mut self, config: EngineConfig) -> Self {
        self.config = config;
        self
    }

    /// The engine; fails only without a store.
    pub fn build(self) -> Result<Engine, EngineError> {
        let store = self.store.ok_or_else(|| {
            invalid(
                "store",
                "give the engine a store: `.store(MemoryStore::new())`, or a `SqlStore` for durable runs",
            )
        })?;
        let gateway = self
            .gateway
            .unwrap_or_else(|| Arc::new(Gateway::new(self.registry, self.prices)));
        let cipher = self.cipher.unwrap_or_else(|| Arc::new(NoCipher));
        let backend = self.backend.unwrap_or_else(|| Arc::new(NoBackend));
        let tools: Arc<dyn ToolBackend> = if self.tools.is_empty() {
            backend
        } else {
            Arc::new(WithTools {
                tools: self.tools,
                backend,
            })
        };
        Ok(Engine::new(store, gateway, cipher, tools, self.config))
    }
}
