//! One error type for the API, and the one place domain errors become HTTP statuses.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use baton_core::store::StoreError;
use baton_core::ValidationError;
use baton_engine::{BusyTask, EngineError};

/// How the body of an error is laid out. orq's SDK parses a few endpoints' errors with
/// different models; the standard shape satisfies all but one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorShape {
    /// `{"error": {"code", "message", "param", "type"}, "message"}`.
    Standard,
    /// `{"error": "<message>", "code", "message"}` (orq's tool-update 404).
    FlatError,
}

/// An error answer: status, stable code, readable message and the offending field.
#[derive(Debug)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable machine-readable code (`not_found`, `invalid_request`, …).
    pub code: &'static str,
    /// Human-readable message.
    pub message: String,
    /// The request field at fault, if any.
    pub param: Option<String>,
    /// Body layout.
    pub shape: ErrorShape,
    /// The running task a `task_busy` refusal reports.
    pub task: Option<Box<BusyTaskBody>>,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            param: None,
            shape: ErrorShape::Standard,
            task: None,
        }
    }

    /// 400 about one field.
    pub fn invalid(param: impl Into<String>, message: impl Into<String>) -> Self {
        let param = param.into();
        let message = message.into();
        let mut e = Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            if param.is_empty() {
                message
            } else {
                format!("{param}: {message}")
            },
        );
        e.param = (!param.is_empty()).then_some(param);
        e
    }

    /// 400 about one field, with a specific code (`invalid_expression`, `schedule_inactive`).
    pub fn invalid_code(
        code: &'static str,
        param: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        let mut e = Self::invalid(param, message);
        e.code = code;
        e
    }

    /// 400 for a body that is not JSON at all.
    pub fn malformed(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "malformed_json", message)
    }

    /// 413 for a body over the size limit.
    pub fn too_large(message: impl Into<String>) -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", message)
    }

    /// 404.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// 409.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", message)
    }

    /// 409 for a message to a task that is still running, with what the task is doing.
    pub fn busy(message: impl Into<String>, busy: &BusyTask) -> Self {
        let mut e = Self::new(StatusCode::CONFLICT, "task_busy", message);
        e.param = Some("task_id".into());
        e.task = Some(Box::new(BusyTaskBody {
            id: busy.task_id.clone(),
            state: busy.state.as_str().to_owned(),
            response_id: busy.response_id.clone(),
            iterations: busy.iterations,
            running_tools: busy.running_tools.clone(),
            queued_messages: busy.queued,
            updated_at: busy.updated.clone(),
        }));
        e
    }

    /// 403.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// 502 for an agent run that failed: its error, readable.
    pub fn run_failed(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_GATEWAY, "run_failed", message)
    }

    /// 401.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    /// 500 with a generic message; the cause goes to the log only.
    pub fn internal(cause: &dyn std::error::Error) -> Self {
        tracing::error!(error = %error_chain(cause), "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "internal error",
        )
    }

    /// The same error with another body layout.
    pub fn with_shape(mut self, shape: ErrorShape) -> Self {
        self.shape = shape;
        self
    }

    fn kind(&self) -> ErrorKind {
        match self.status.as_u16() {
            401 | 403 => ErrorKind::AuthenticationError,
            400..=499 => ErrorKind::InvalidRequestError,
            _ => ErrorKind::ApiError,
        }
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

impl From<ValidationError> for ApiError {
    fn from(e: ValidationError) -> Self {
        Self::invalid(e.field, e.message)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Self::not_found("not found"),
            StoreError::Conflict(message) => Self::conflict(message),
            StoreError::Corrupt(_) => Self::internal(&e),
            StoreError::Unavailable(_) => {
                tracing::error!(error = %error_chain(&e), "store unavailable");
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "the database is unavailable; retry later",
                )
            }
        }
    }
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> Self {
        match e {
            EngineError::Invalid { field, message } => Self::invalid(field, message),
            EngineError::TaskNotFound(_) | EngineError::AgentNotFound(_) => {
                Self::not_found(e.to_string())
            }
            EngineError::NotFound(message) => Self::not_found(message),
            EngineError::Conflict(message) => Self::conflict(message),
            EngineError::Expression(message) => {
                Self::invalid_code("invalid_expression", "expression", message)
            }
            EngineError::Inactive(message) => Self::invalid_code("schedule_inactive", "", message),
            EngineError::Busy(ref busy) => Self::busy(e.to_string(), busy),
            EngineError::LeaseLost(_) => Self::conflict(e.to_string()),
            EngineError::HandedOver(_) => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "shutting_down",
                e.to_string(),
            ),
            EngineError::Store(store) => store.into(),
            EngineError::Upstream { .. } => {
                Self::new(StatusCode::BAD_GATEWAY, "upstream_error", e.to_string())
            }
            EngineError::Internal { .. } => Self::internal(&e),
        }
    }
}

/// The standard error body: `{"error": {"code", "message", "param", "type"}, "message"}`.
/// Keys are in the order earlier releases sent them.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"error": {"code": "invalid_request", "message": "key: is required",
    "param": "key", "type": "invalid_request_error"}, "message": "key: is required"}))]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
    /// The same as `error.message`, for clients that read only the top level.
    pub message: String,
    /// With `task_busy` (409): the task that is still running.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<BusyTaskBody>,
}

/// What a task that refused a message (`task_busy`) is doing.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct BusyTaskBody {
    /// The task.
    pub id: String,
    /// `submitted` or `working`.
    pub state: String,
    /// The response id of the turn it runs.
    pub response_id: String,
    /// Model calls made in that turn so far.
    pub iterations: u32,
    /// Names of the tools running now.
    pub running_tools: Vec<String>,
    /// Messages queued behind the turn (`multitask_strategy: enqueue` or `interrupt`).
    pub queued_messages: usize,
    /// When the task was last stored (RFC 3339).
    pub updated_at: String,
}

/// The inside of [`ErrorBody`].
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code: `invalid_request`, `malformed_json`, `not_found`,
    /// `conflict`, `unauthorized`, `forbidden`, `payload_too_large`, `unavailable`, …
    pub code: String,
    /// Human-readable message.
    pub message: String,
    /// The request field at fault (`messages[0].text` style), or null.
    pub param: Option<String>,
    /// The error's class.
    #[serde(rename = "type")]
    pub kind: ErrorKind,
}

/// The class of an error, from its status.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// 401 and 403.
    AuthenticationError,
    /// Other 4xx.
    InvalidRequestError,
    /// 5xx.
    ApiError,
}

/// The flat error body a few orq endpoints use: `{"code", "error": "<message>", "message"}`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"code": "not_found", "error": "not found", "message": "not found"}))]
pub struct FlatErrorBody {
    /// Stable machine-readable code.
    pub code: String,
    /// Human-readable message.
    pub error: String,
    /// The same message.
    pub message: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self.shape {
            ErrorShape::Standard => {
                let kind = self.kind();
                let body = ErrorBody {
                    error: ErrorDetail {
                        code: self.code.to_owned(),
                        message: self.message.clone(),
                        param: self.param,
                        kind,
                    },
                    message: self.message,
                    task: self.task.map(|task| *task),
                };
                (self.status, axum::Json(body)).into_response()
            }
            ErrorShape::FlatError => {
                let body = FlatErrorBody {
                    code: self.code.to_owned(),
                    error: self.message.clone(),
                    message: self.message,
                };
                (self.status, axum::Json(body)).into_response()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body(error: ApiError) -> (u16, String) {
        let response = error.into_response();
        let status = response.status().as_u16();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        (status, String::from_utf8(bytes.to_vec()).unwrap())
    }

    /// The typed bodies send the bytes the earlier `json!` bodies sent (keys in sorted order).
    #[tokio::test]
    async fn error_bodies_keep_their_bytes() {
        assert_eq!(
            body(ApiError::invalid("key", "is required")).await,
            (
                400,
                r#"{"error":{"code":"invalid_request","message":"key: is required","param":"key","type":"invalid_request_error"},"message":"key: is required"}"#.to_owned()
            )
        );
        assert_eq!(
            body(ApiError::unauthorized("no key")).await,
            (
                401,
                r#"{"error":{"code":"unauthorized","message":"no key","param":null,"type":"authentication_error"},"message":"no key"}"#.to_owned()
            )
        );
        assert_eq!(
            body(ApiError::not_found("gone").with_shape(ErrorShape::FlatError)).await,
            (
                404,
                r#"{"code":"not_found","error":"gone","message":"gone"}"#.to_owned()
            )
        );
        let (status, text) = body(ApiError::internal(&std::fmt::Error)).await;
        assert_eq!(status, 500);
        assert!(text.contains(r#""type":"api_error""#), "{text}");
    }
}
