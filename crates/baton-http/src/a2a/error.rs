//! A2A errors: one value, shown as a JSON-RPC error (A2A's codes) or, on the REST binding, as
//! a `google.rpc.Status`-shaped body with the matching HTTP status and `ErrorInfo` reason.

use super::types::A2aJsonRpcError;
use crate::error::ApiError;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use utoipa::ToSchema;

/// What an A2A request failed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum A2aErrorKind {
    /// The body is not JSON.
    Parse,
    /// Not a valid JSON-RPC request.
    InvalidRequest,
    /// No such method.
    MethodNotFound,
    /// The parameters are wrong.
    InvalidParams,
    /// The server failed.
    Internal,
    /// No such task (for this caller and agent).
    TaskNotFound,
    /// The task can no longer be canceled.
    TaskNotCancelable,
    /// The operation does not apply (e.g. subscribing to a finished task).
    UnsupportedOperation,
    /// Push notifications are off.
    PushNotSupported,
    /// A caller may not do this.
    Forbidden,
    /// The task still runs a turn.
    Busy,
    /// The database is unavailable.
    Unavailable,
}

impl A2aErrorKind {
    /// (JSON-RPC code, HTTP status, gRPC status name, ErrorInfo reason).
    fn wire(self) -> (i64, StatusCode, &'static str, &'static str) {
        match self {
            Self::Parse => (
                -32700,
                StatusCode::BAD_REQUEST,
                "INVALID_ARGUMENT",
                "PARSE_ERROR",
            ),
            Self::InvalidRequest => (
                -32600,
                StatusCode::BAD_REQUEST,
                "INVALID_ARGUMENT",
                "INVALID_REQUEST",
            ),
            Self::MethodNotFound => (
                -32601,
                StatusCode::NOT_FOUND,
                "NOT_FOUND",
                "METHOD_NOT_FOUND",
            ),
            Self::InvalidParams => (
                -32602,
                StatusCode::BAD_REQUEST,
                "INVALID_ARGUMENT",
                "INVALID_PARAMS",
            ),
            Self::Internal => (
                -32603,
                StatusCode::INTERNAL_SERVER_ERROR,
                "INTERNAL",
                "INTERNAL_ERROR",
            ),
            Self::TaskNotFound => (-32001, StatusCode::NOT_FOUND, "NOT_FOUND", "TASK_NOT_FOUND"),
            Self::TaskNotCancelable => (
                -32002,
                StatusCode::BAD_REQUEST,
                "FAILED_PRECONDITION",
                "TASK_NOT_CANCELABLE",
            ),
            Self::UnsupportedOperation => (
                -32004,
                StatusCode::BAD_REQUEST,
                "FAILED_PRECONDITION",
                "UNSUPPORTED_OPERATION",
            ),
            Self::PushNotSupported => (
                -32003,
                StatusCode::BAD_REQUEST,
                "FAILED_PRECONDITION",
                "PUSH_NOTIFICATION_NOT_SUPPORTED",
            ),
            // A2A has no code of its own for these: JSON-RPC's server-error range.
            Self::Forbidden => (
                -32000,
                StatusCode::FORBIDDEN,
                "PERMISSION_DENIED",
                "FORBIDDEN",
            ),
            Self::Busy => (
                -32000,
                StatusCode::CONFLICT,
                "FAILED_PRECONDITION",
                "TASK_BUSY",
            ),
            Self::Unavailable => (
                -32000,
                StatusCode::SERVICE_UNAVAILABLE,
                "UNAVAILABLE",
                "UNAVAILABLE",
            ),
        }
    }
}

/// An A2A request's failure.
#[derive(Debug, Clone)]
pub(crate) struct A2aError {
    /// What kind.
    pub kind: A2aErrorKind,
    /// Readable details.
    pub message: String,
}

impl A2aError {
    /// A failure of `kind`.
    pub(crate) fn new(kind: A2aErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    /// Bad parameters.
    pub(crate) fn params(message: impl Into<String>) -> Self {
        Self::new(A2aErrorKind::InvalidParams, message)
    }

    /// An unknown task.
    pub(crate) fn task_not_found(id: &str) -> Self {
        Self::new(A2aErrorKind::TaskNotFound, format!("task `{id}` not found"))
    }

    /// The JSON-RPC error object.
    pub(crate) fn to_jsonrpc(&self) -> A2aJsonRpcError {
        let (code, _, _, reason) = self.kind.wire();
        A2aJsonRpcError {
            code,
            message: self.message.clone(),
            data: Some(json!([error_info(reason)])),
        }
    }

    /// The REST binding's body.
    pub(crate) fn to_rest(&self) -> (StatusCode, A2aErrorBody) {
        let (_, status, name, reason) = self.kind.wire();
        let detail: Map<String, Value> = match error_info(reason) {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        (
            status,
            A2aErrorBody {
                error: A2aErrorStatus {
                    code: status.as_u16(),
                    status: name.to_owned(),
                    message: self.message.clone(),
                    details: vec![detail],
                },
            },
        )
    }
}

/// A `google.rpc.ErrorInfo` naming the A2A reason.
fn error_info(reason: &str) -> Value {
    json!({"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": reason,
           "domain": "a2a-protocol.org"})
}

impl From<ApiError> for A2aError {
    fn from(e: ApiError) -> Self {
        let kind = match e.status {
            StatusCode::NOT_FOUND => A2aErrorKind::TaskNotFound,
            StatusCode::FORBIDDEN => A2aErrorKind::Forbidden,
            StatusCode::CONFLICT => A2aErrorKind::Busy,
            StatusCode::SERVICE_UNAVAILABLE => A2aErrorKind::Unavailable,
            s if s.is_client_error() => A2aErrorKind::InvalidParams,
            _ => A2aErrorKind::Internal,
        };
        let message = match &e.param {
            Some(param) if !e.message.starts_with(param.as_str()) => {
                format!("{param}: {}", e.message)
            }
            _ => e.message,
        };
        Self::new(kind, message)
    }
}

impl From<baton_engine::EngineError> for A2aError {
    fn from(e: baton_engine::EngineError) -> Self {
        ApiError::from(e).into()
    }
}

impl IntoResponse for A2aError {
    /// The REST binding's error answer.
    fn into_response(self) -> Response {
        let (status, body) = self.to_rest();
        (status, Json(body)).into_response()
    }
}

/// The REST binding's error body (a `google.rpc.Status`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"error": {"code": 404, "status": "NOT_FOUND", "message": "task `t1` not found",
    "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "TASK_NOT_FOUND",
                 "domain": "a2a-protocol.org"}]}}))]
pub struct A2aErrorBody {
    /// The error.
    pub error: A2aErrorStatus,
}

/// A `google.rpc.Status`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct A2aErrorStatus {
    /// The HTTP status.
    pub code: u16,
    /// The gRPC status name (`NOT_FOUND`, `INVALID_ARGUMENT`, …).
    pub status: String,
    /// What went wrong.
    pub message: String,
    /// A `google.rpc.ErrorInfo` whose `reason` names the A2A error (`TASK_NOT_FOUND`, …).
    #[schema(value_type = Vec<Object>)]
    pub details: Vec<Map<String, Value>>,
}

impl From<baton_core::ValidationError> for A2aError {
    fn from(e: baton_core::ValidationError) -> Self {
        ApiError::from(e).into()
    }
}
