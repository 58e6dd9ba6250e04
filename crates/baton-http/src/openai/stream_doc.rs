//! The documented SSE messages of the OpenAI-compatible streams.

use super::dto::{OpenAiChatChunk, OpenAiResponseEvent};
use std::borrow::Cow;
use utoipa::openapi::schema::{Object, OneOfBuilder, Schema, Type};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{PartialSchema, ToSchema};

/// A string property holding JSON of the schema `name`.
fn json_data(description: &str, name: &str) -> Object {
    let content_schema = serde_json::to_value(Ref::from_schema_name(name)).unwrap_or_default();
    Object::builder()
        .schema_type(Type::String)
        .description(Some(description))
        .content_media_type("application/json")
        .extensions(Some(
            [("contentSchema".to_owned(), content_schema)]
                .into_iter()
                .collect(),
        ))
        .build()
}

/// One SSE message of a streamed chat completion: `data:` a chunk as JSON, or `[DONE]` last.
pub(crate) struct OpenAiChatSse;

impl PartialSchema for OpenAiChatSse {
    fn schema() -> RefOr<Schema> {
        let chunk = Object::builder()
            .property(
                "data",
                json_data("An `OpenAiChatChunk` as JSON", &OpenAiChatChunk::name()),
            )
            .required("data");
        let done = Object::builder()
            .property(
                "data",
                Object::builder()
                    .schema_type(Type::String)
                    .description(Some("The end of the stream"))
                    .enum_values(Some(["[DONE]"])),
            )
            .required("data");
        let schema = OneOfBuilder::new().item(chunk).item(done).description(Some(
            "One SSE message of a streamed chat completion: a `chat.completion.chunk`, or \
             `data: [DONE]` last",
        ));
        RefOr::T(schema.into())
    }
}

impl ToSchema for OpenAiChatSse {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("OpenAiChatSse")
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((OpenAiChatChunk::name().into(), OpenAiChatChunk::schema()));
        OpenAiChatChunk::schemas(schemas);
    }
}

/// One SSE message of a streamed response: `event:` its type, `data:` the event as JSON.
pub(crate) struct OpenAiResponseSse;

impl PartialSchema for OpenAiResponseSse {
    fn schema() -> RefOr<Schema> {
        let schema = Object::builder()
            .property(
                "event",
                Object::builder()
                    .schema_type(Type::String)
                    .description(Some("The event's `type`")),
            )
            .property(
                "data",
                json_data(
                    "An `OpenAiResponseEvent` as JSON",
                    &OpenAiResponseEvent::name(),
                ),
            )
            .required("event")
            .required("data")
            .description(Some(
                "One SSE message of a streamed response: `event: <type>` and the event",
            ));
        RefOr::T(Schema::Object(schema.build()))
    }
}

impl ToSchema for OpenAiResponseSse {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("OpenAiResponseSse")
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((
            OpenAiResponseEvent::name().into(),
            OpenAiResponseEvent::schema(),
        ));
        OpenAiResponseEvent::schemas(schemas);
    }
}
