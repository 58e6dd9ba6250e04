//! The OpenAPI document, generated from the handlers' annotations.

use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Baton",
        description = "Self-hostable agent server. Wire-compatible with orq.ai's agents API."
    ),
    paths(
        crate::agents::create,
        crate::agents::list,
        crate::agents::retrieve,
        crate::agents::update,
        crate::agents::delete,
        crate::agents::versions,
        crate::tools::create,
        crate::tools::list,
        crate::tools::retrieve,
        crate::tools::update,
        crate::tools::delete,
        crate::tools::invoke,
        crate::orchestra::create,
        crate::orchestra::invoke,
        crate::memory::create,
        crate::memory::list,
        crate::memory::retrieve,
        crate::memory::update,
        crate::memory::delete,
        crate::memory::create_memory,
        crate::memory::list_memories,
        crate::memory::retrieve_memory,
        crate::memory::update_memory,
        crate::memory::delete_memory,
        crate::memory::create_document,
        crate::memory::list_documents,
        crate::memory::retrieve_document,
        crate::memory::update_document,
        crate::memory::delete_document,
        crate::knowledge::create,
        crate::knowledge::list,
        crate::knowledge::retrieve,
        crate::knowledge::update,
        crate::knowledge::delete,
        crate::knowledge::search,
        crate::knowledge::create_datasource,
        crate::knowledge::list_datasources,
        crate::knowledge::retrieve_datasource,
        crate::knowledge::update_datasource,
        crate::knowledge::delete_datasource,
        crate::knowledge::create_chunks,
        crate::knowledge::list_chunks,
        crate::knowledge::delete_chunks,
        crate::knowledge::retrieve_chunk,
        crate::knowledge::update_chunk,
        crate::knowledge::delete_chunk,
        crate::schedules::create,
        crate::schedules::list,
        crate::schedules::retrieve,
        crate::schedules::update,
        crate::schedules::delete,
        crate::schedules::execute,
        crate::schedules::executions,
        crate::schedules::orchestra_create,
        crate::traces::trace,
        crate::traces::spans,
        crate::traces::span,
        crate::traces::search,
        crate::traces::usage,
        crate::keys::create,
        crate::keys::list,
        crate::keys::revoke,
        crate::responses::create,
        crate::responses::get_response,
        crate::responses::stream,
        crate::responses::cancel,
        crate::responses::thread,
    ),
    modifiers(&BearerAuth),
    security(("bearer" = []))
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// `GET /openapi.json`.
pub async fn document() -> axum::Json<utoipa::openapi::OpenApi> {
    axum::Json(ApiDoc::openapi())
}
