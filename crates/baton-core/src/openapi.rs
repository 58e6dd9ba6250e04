//! OpenAPI schemas of the types whose wire form serde cannot describe by itself: a value that
//! is either a string or an object, and free-form objects.

use crate::agent::ModelConfig;
use crate::tool::HeaderValue;
use crate::validate::MODEL_NAME_PATTERN;
use std::borrow::Cow;
use utoipa::openapi::schema::{
    AdditionalProperties, ObjectBuilder, OneOfBuilder, Schema, SchemaType, Type,
};
use utoipa::openapi::RefOr;
use utoipa::{PartialSchema, ToSchema};

fn string(description: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
}

fn model_name(description: &str) -> ObjectBuilder {
    string(description).pattern(Some(MODEL_NAME_PATTERN))
}

/// The schema of a JSON object with any keys. Fields that hold one refer to it by name:
/// code generators (openapi-python-client) cannot read a free-form object inline in a union.
pub struct JsonObject;

impl PartialSchema for JsonObject {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .additional_properties(Some(AdditionalProperties::<Schema>::FreeForm(true)))
            .description(Some("A JSON object with any keys"))
            .into()
    }
}

impl ToSchema for JsonObject {
    fn name() -> Cow<'static, str> {
        "JsonObject".into()
    }
}

fn nullable(schema: impl Into<RefOr<Schema>>) -> OneOfBuilder {
    OneOfBuilder::new()
        .item(ObjectBuilder::new().schema_type(Type::Null))
        .item(schema)
}

impl PartialSchema for ModelConfig {
    fn schema() -> RefOr<Schema> {
        let object = ObjectBuilder::new()
            .schema_type(Type::Object)
            .property("id", model_name("`provider/model` or `provider:model`"))
            .required("id")
            .property(
                "integration_id",
                ObjectBuilder::new()
                    .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
                    .description(Some(
                        "The integration (credential set) to call the model with",
                    )),
            )
            .property(
                "parameters",
                nullable(utoipa::openapi::Ref::from_schema_name(JsonObject::name())).description(
                    Some("OpenAI-style parameters (temperature, max_tokens, …), passed on"),
                ),
            )
            .property(
                "retry",
                nullable(utoipa::openapi::Ref::from_schema_name(
                    crate::agent::RetryPolicy::name(),
                )),
            );
        OneOfBuilder::new()
            .item(model_name("`provider/model`"))
            .item(object)
            .description(Some("A model: its name, or an object with its `id`"))
            .into()
    }
}

impl ToSchema for ModelConfig {
    fn name() -> Cow<'static, str> {
        "ModelConfig".into()
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        use crate::agent::RetryPolicy;
        schemas.push((RetryPolicy::name().into(), RetryPolicy::schema()));
        schemas.push((JsonObject::name().into(), JsonObject::schema()));
    }
}

impl PartialSchema for HeaderValue {
    fn schema() -> RefOr<Schema> {
        let object = ObjectBuilder::new()
            .property(
                "value",
                string("The value; a secret's reads back as `********`"),
            )
            .required("value")
            .property(
                "encrypted",
                ObjectBuilder::new()
                    .schema_type(Type::Boolean)
                    .description(Some("A secret: kept encrypted at rest, masked in answers"))
                    .default(Some(false.into())),
            );
        OneOfBuilder::new()
            .item(string("A plain value"))
            .item(object)
            .description(Some("A header value: plain, or a secret"))
            .into()
    }
}

impl ToSchema for HeaderValue {
    fn name() -> Cow<'static, str> {
        "HeaderValue".into()
    }
}
