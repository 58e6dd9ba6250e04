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
        crate::memory::documents::create_document,
        crate::memory::documents::list_documents,
        crate::memory::documents::retrieve_document,
        crate::memory::documents::update_document,
        crate::memory::documents::delete_document,
        crate::knowledge::create,
        crate::knowledge::list,
        crate::knowledge::retrieve,
        crate::knowledge::update,
        crate::knowledge::delete,
        crate::knowledge::search,
        crate::knowledge::datasources::create_datasource,
        crate::knowledge::datasources::list_datasources,
        crate::knowledge::datasources::retrieve_datasource,
        crate::knowledge::datasources::update_datasource,
        crate::knowledge::datasources::delete_datasource,
        crate::knowledge::chunks::create_chunks,
        crate::knowledge::chunks::list_chunks,
        crate::knowledge::chunks::delete_chunks,
        crate::knowledge::chunks::retrieve_chunk,
        crate::knowledge::chunks::update_chunk,
        crate::knowledge::chunks::delete_chunk,
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
