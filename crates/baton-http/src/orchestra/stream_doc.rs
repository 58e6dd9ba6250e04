//! The documented shape of `/api/llm/stream`'s messages: a run's SSE messages, plus the
//! `result` event that carries the answer `/api/llm/invoke` gives.

use super::llm::LlmAnswer;
use crate::orq_events::RunEventSse;
use std::borrow::Cow;
use utoipa::openapi::schema::{Object, OneOfBuilder, Schema, Type};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{PartialSchema, ToSchema};

/// One SSE message of `/api/llm/stream`: a run's message ([`RunEventSse`]) or `event: result`
/// whose `data` is the [`LlmAnswer`] as JSON.
pub(crate) struct LlmStreamSse;

impl PartialSchema for LlmStreamSse {
    fn schema() -> RefOr<Schema> {
        let content_schema =
            serde_json::to_value(Ref::from_schema_name(LlmAnswer::name())).unwrap_or_default();
        let result = Object::builder()
            .property(
                "event",
                Object::builder()
                    .schema_type(Type::String)
                    .description(Some("The turn's answer, after its last run event"))
                    .enum_values(Some(["result"])),
            )
            .property(
                "data",
                Object::builder()
                    .schema_type(Type::String)
                    .description(Some("An `LlmAnswer` as JSON"))
                    .content_media_type("application/json")
                    .extensions(Some(
                        [("contentSchema".to_owned(), content_schema)]
                            .into_iter()
                            .collect(),
                    )),
            )
            .required("event")
            .required("data");
        let schema = OneOfBuilder::new()
            .item(Ref::from_schema_name(RunEventSse::name()))
            .item(result)
            .description(Some(
                "One SSE message of `/api/llm/stream`: a run's message, or `event: result` with \
                 the answer `/api/llm/invoke` gives",
            ));
        RefOr::T(schema.into())
    }
}

impl ToSchema for LlmStreamSse {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("LlmStreamSse")
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((RunEventSse::name().into(), RunEventSse::schema()));
        RunEventSse::schemas(schemas);
        schemas.push((LlmAnswer::name().into(), LlmAnswer::schema()));
        LlmAnswer::schemas(schemas);
    }
}
