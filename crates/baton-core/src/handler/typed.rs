//! Typed tools: arguments and result as Rust types, the parameters' JSON schema derived from
//! the arguments' type.

use super::{Runnable, ToolContext, ToolError, ToolHandler};
use crate::model::ToolDefinition;
use async_trait::async_trait;
use schemars::generate::SchemaSettings;
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use std::future::Future;
use std::sync::Arc;

/// A tool with typed arguments and result. The model is offered `NAME`, the description and the
/// JSON schema of `Args`; each call's arguments are decoded into `Args` (bad ones answer
/// [`ToolError::InvalidArguments`] without calling the tool) and the output is sent back as JSON.
///
/// ```
/// use baton_core::handler::{Tool, ToolContext, ToolError};
/// use schemars::JsonSchema;
/// use serde::Deserialize;
///
/// /// Adds two numbers.
/// struct Add;
///
/// #[derive(Deserialize, JsonSchema)]
/// struct Operands {
///     /// The first number.
///     a: f64,
///     /// The second number.
///     b: f64,
/// }
///
/// impl Tool for Add {
///     type Args = Operands;
///     type Output = f64;
///     const NAME: &'static str = "add";
///     fn description(&self) -> String {
///         "Adds two numbers".into()
///     }
///     async fn call(&self, args: Operands, _: &ToolContext<'_>) -> Result<f64, ToolError> {
///         Ok(args.a + args.b)
///     }
/// }
///
/// let runnable = baton_core::handler::Runnable::from_tool(Add);
/// assert_eq!(runnable.definition.parameters["required"], serde_json::json!(["a", "b"]));
/// ```
pub trait Tool: Send + Sync + 'static {
    /// The arguments the model fills; their JSON schema is the tool's parameters.
    type Args: DeserializeOwned + JsonSchema + Send;
    /// What a call returns, sent to the model as JSON.
    type Output: Serialize + Send;
    /// The tool's name as the model sees it (`^[a-zA-Z0-9_-]{1,64}$`).
    const NAME: &'static str;

    /// What the tool does, for the model.
    fn description(&self) -> String;

    /// Runs one call. `Err` is shown to the model as the tool's error.
    fn call(
        &self,
        args: Self::Args,
        ctx: &ToolContext<'_>,
    ) -> impl Future<Output = Result<Self::Output, ToolError>> + Send;
}

/// The JSON schema of a typed tool's arguments, as tool parameters: every subschema inlined
/// (providers differ in their support of references), no meta-schema or title.
pub fn parameters_of<T: JsonSchema>() -> Value {
    let generator = SchemaSettings::draft2020_12()
        .with(|s| {
            s.inline_subschemas = true;
            s.meta_schema = None;
        })
        .into_generator();
    let mut schema = generator.into_root_schema_for::<T>().to_value();
    if let Some(object) = schema.as_object_mut() {
        object.remove("title");
    }
    schema
}

/// The definition the model is told about for a typed tool.
pub fn definition_of<T: Tool>(tool: &T) -> ToolDefinition {
    ToolDefinition {
        name: T::NAME.to_owned(),
        description: tool.description(),
        parameters: parameters_of::<T::Args>(),
    }
}

/// Runs a typed tool behind the object-safe [`ToolHandler`].
pub struct TypedHandler<T>(pub T);

#[async_trait]
impl<T: Tool> ToolHandler for TypedHandler<T> {
    async fn call(&self, arguments: Value, ctx: &ToolContext<'_>) -> Result<Value, ToolError> {
        // A call without arguments is an empty object, as providers send it.
        let arguments = if arguments.is_null() {
            Value::Object(Default::default())
        } else {
            arguments
        };
        let args: T::Args = serde_path_to_error::deserialize(arguments).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            ToolError::InvalidArguments(if path == "." {
                format!("invalid arguments for `{}`: {inner}", T::NAME)
            } else {
                format!("invalid arguments for `{}`: {path}: {inner}", T::NAME)
            })
        })?;
        let output = self.0.call(args, ctx).await?;
        serde_json::to_value(output).map_err(|e| {
            ToolError::Other(format!(
                "the result of `{}` could not be turned into JSON: {e}",
                T::NAME
            ))
        })
    }
}

impl Runnable {
    /// A typed tool, ready to run: its definition and a handler that decodes the arguments.
    pub fn from_tool<T: Tool>(tool: T) -> Self {
        Self {
            definition: definition_of(&tool),
            handler: Arc::new(TypedHandler(tool)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{SecretCipher, SecretError};
    use serde::Deserialize;
    use serde_json::{json, Map};

    /// Converts an amount between currencies at a fixed rate.
    struct Convert;

    #[derive(Deserialize, JsonSchema)]
    struct Conversion {
        /// How much to convert.
        amount: f64,
        /// The currencies, from and to.
        pair: Pair,
        /// Digits after the decimal point.
        #[serde(default)]
        digits: Option<u8>,
    }

    #[derive(Deserialize, JsonSchema)]
    struct Pair {
        from: String,
        to: String,
    }

    #[derive(Serialize)]
    struct Converted {
        amount: f64,
        currency: String,
    }

    impl Tool for Convert {
        type Args = Conversion;
        type Output = Converted;
        const NAME: &'static str = "convert";
        fn description(&self) -> String {
            "Converts money".into()
        }
        async fn call(
            &self,
            args: Conversion,
            _: &ToolContext<'_>,
        ) -> Result<Converted, ToolError> {
            if args.pair.from == args.pair.to {
                return Err(ToolError::InvalidArguments("nothing to convert".into()));
            }
            let factor = 10f64.powi(i32::from(args.digits.unwrap_or(2)));
            Ok(Converted {
                amount: (args.amount * 1.25 * factor).round() / factor,
                currency: args.pair.to,
            })
        }
    }

    struct Plain;

    impl SecretCipher for Plain {
        fn seal(&self, plain: &str) -> String {
            plain.to_owned()
        }
        fn open(&self, sealed: &str) -> Result<String, SecretError> {
            Ok(sealed.to_owned())
        }
        fn seal_bound(&self, plain: &str, _: &str) -> String {
            plain.to_owned()
        }
        fn open_bound(&self, sealed: &str, _: &str) -> Result<String, SecretError> {
            Ok(sealed.to_owned())
        }
    }

    async fn call(arguments: Value) -> Result<Value, ToolError> {
        let runnable = Runnable::from_tool(Convert);
        let variables = Map::new();
        let ctx = ToolContext {
            variables: &variables,
            cipher: &Plain,
            trace: None,
            idempotency_key: None,
        };
        runnable.handler.call(arguments, &ctx).await
    }

    #[test]
    fn the_parameters_are_the_arguments_schema_inlined() {
        let definition = definition_of(&Convert);
        assert_eq!(definition.name, "convert");
        assert_eq!(definition.description, "Converts money");
        let schema = definition.parameters;
        assert_eq!(schema["type"], "object");
        assert_eq!(schema["required"], json!(["amount", "pair"]));
        assert_eq!(schema["properties"]["amount"]["type"], "number");
        assert_eq!(
            schema["properties"]["amount"]["description"],
            "How much to convert."
        );
        // The nested type is inlined: no reference a provider might not follow.
        assert_eq!(schema["properties"]["pair"]["type"], "object");
        assert_eq!(
            schema["properties"]["pair"]["required"],
            json!(["from", "to"])
        );
        let text = schema.to_string();
        for absent in ["$ref", "$defs", "$schema", "\"title\""] {
            assert!(!text.contains(absent), "{absent} in {text}");
        }
    }

    #[tokio::test]
    async fn the_output_is_serialized() {
        let result = call(json!({"amount": 10, "pair": {"from": "EUR", "to": "USD"}})).await;
        assert_eq!(result.unwrap(), json!({"amount": 12.5, "currency": "USD"}));
    }

    #[tokio::test]
    async fn bad_arguments_are_invalid_arguments_naming_the_field() {
        let missing = call(json!({"amount": 10})).await.unwrap_err();
        assert!(
            matches!(missing, ToolError::InvalidArguments(_)),
            "{missing:?}"
        );
        assert_eq!(
            missing.to_string(),
            "invalid arguments for `convert`: missing field `pair`"
        );

        let wrong = call(json!({"amount": 1, "pair": {"from": "EUR", "to": 7}}))
            .await
            .unwrap_err();
        assert!(matches!(wrong, ToolError::InvalidArguments(_)), "{wrong:?}");
        let text = wrong.to_string();
        assert!(
            text.starts_with("invalid arguments for `convert`: pair.to: invalid type: integer `7`"),
            "{text}"
        );

        let not_object = call(json!("ten euros")).await.unwrap_err();
        assert!(matches!(not_object, ToolError::InvalidArguments(_)));
    }

    #[tokio::test]
    async fn the_tools_own_error_is_passed_on() {
        let same = call(json!({"amount": 1, "pair": {"from": "EUR", "to": "EUR"}}))
            .await
            .unwrap_err();
        assert!(matches!(same, ToolError::InvalidArguments(ref m) if m == "nothing to convert"));
    }
}
