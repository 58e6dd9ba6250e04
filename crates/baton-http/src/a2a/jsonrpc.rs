//! The JSON-RPC 2.0 binding: one endpoint, methods by name (v1.0's and v0.3's), answers as
//! JSON-RPC responses — streamed methods as SSE, one response per message.

use super::error::{A2aError, A2aErrorKind};
use super::service::{self, Sent};
use super::types::{
    A2aGetTaskRequest, A2aJsonRpcRequest, A2aJsonRpcResponse, A2aListPushConfigsRequest,
    A2aListTasksRequest, A2aPushConfigRequest, A2aSendMessageRequest, A2aSendMessageResponse,
    A2aStreamResponse, A2aTaskIdRequest, A2aTaskPushNotificationConfig,
};
use super::{push, v03};
use crate::auth::Caller;
use crate::extract::Path;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use futures_util::stream::{BoxStream, StreamExt};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use std::convert::Infallible;

/// What a method answers.
enum Answer {
    /// One result.
    Result(Value),
    /// A stream of results.
    Stream(BoxStream<'static, A2aStreamResponse>),
}

/// A2A over JSON-RPC 2.0: `SendMessage`, `SendStreamingMessage`, `GetTask`, `ListTasks`,
/// `CancelTask`, `SubscribeToTask` and the push-notification config methods, by their v1.0
/// names or their v0.3 ones (`message/send`, `message/stream`, `tasks/get`, `tasks/cancel`,
/// `tasks/resubscribe`, `tasks/pushNotificationConfig/{set,get,list,delete}`; these answer in
/// v0.3's shapes). Errors are JSON-RPC errors with A2A's codes (-32001 task not found, …)
/// in a 200 answer; a body that is not a JSON-RPC request answers 400.
#[utoipa::path(post, path = "/a2a/{agent_key}", operation_id = "agent_rpc_call", tag = "a2a",
    request_body = A2aJsonRpcRequest,
    params(("agent_key" = String, Path, description = "Agent key")),
    responses((status = 200, description = "The JSON-RPC response (JSON); for `SendStreamingMessage` and \
        `SubscribeToTask`, a `text/event-stream` whose every `data:` is a JSON-RPC response whose \
        `result` is a stream response (`task`, `statusUpdate` or `artifactUpdate`). The stream \
        ends after the turn's last status.",
        content((A2aJsonRpcResponse = "application/json"), (A2aJsonRpcResponse = "text/event-stream"))),
        (status = 400, description = "The body is not JSON (-32700) or not a JSON-RPC 2.0 request (-32600): \
            the JSON-RPC error response", body = A2aJsonRpcResponse)))]
pub(crate) async fn endpoint(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(agent_key): Path<String>,
    body: Bytes,
) -> Response {
    let request: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            let error = A2aError::new(A2aErrorKind::Parse, format!("the body is not JSON: {e}"));
            return reply(Value::Null, Err(error));
        }
    };
    let id = request.get("id").cloned().unwrap_or(Value::Null);
    if !(id.is_string() || id.is_number() || id.is_null()) {
        let error = A2aError::new(
            A2aErrorKind::InvalidRequest,
            "id must be a string, a number or null",
        );
        return reply(Value::Null, Err(error));
    }
    let request: A2aJsonRpcRequest = match serde_json::from_value(request) {
        Ok(r) => r,
        Err(e) => {
            let error = A2aError::new(
                A2aErrorKind::InvalidRequest,
                format!("not a JSON-RPC 2.0 request: {e}"),
            );
            return reply(id, Err(error));
        }
    };
    if request.jsonrpc != "2.0" {
        let error = A2aError::new(A2aErrorKind::InvalidRequest, "jsonrpc must be \"2.0\"");
        return reply(id, Err(error));
    }
    let legacy = v03::is_legacy(&request.method);
    match call(&state, &caller, &agent_key, &request.method, request.params).await {
        Ok(Answer::Result(result)) => {
            let result = if legacy { v03::result(result) } else { result };
            reply(id, Ok(result))
        }
        Ok(Answer::Stream(updates)) => {
            let messages = updates.map(move |update| {
                let result = serde_json::to_value(update).unwrap_or_default();
                let result = if legacy { v03::result(result) } else { result };
                Ok::<_, Infallible>(sse_message(&response(id.clone(), Ok(result))))
            });
            Sse::new(messages)
                .keep_alive(KeepAlive::default())
                .into_response()
        }
        Err(error) => reply(id, Err(error)),
    }
}

fn sse_message(body: &A2aJsonRpcResponse) -> Event {
    Event::default().data(serde_json::to_string(body).unwrap_or_default())
}

fn response(id: Value, outcome: Result<Value, A2aError>) -> A2aJsonRpcResponse {
    let (result, error) = match outcome {
        Ok(result) => (Some(result), None),
        Err(e) => (None, Some(e.to_jsonrpc())),
    };
    A2aJsonRpcResponse {
        jsonrpc: "2.0".into(),
        id,
        result,
        error,
    }
}

fn reply(id: Value, outcome: Result<Value, A2aError>) -> Response {
    // What is not a JSON-RPC request at all is refused at the HTTP level too.
    let status = match &outcome {
        Err(e) if matches!(e.kind, A2aErrorKind::Parse | A2aErrorKind::InvalidRequest) => {
            axum::http::StatusCode::BAD_REQUEST
        }
        _ => axum::http::StatusCode::OK,
    };
    (status, Json(response(id, outcome))).into_response()
}

fn params<T: DeserializeOwned>(params: Value) -> Result<T, A2aError> {
    let params = if params.is_null() {
        Value::Object(Default::default())
    } else {
        params
    };
    crate::extract::from_value(params).map_err(A2aError::from)
}

fn value(v: impl Serialize) -> Result<Answer, A2aError> {
    serde_json::to_value(v)
        .map(Answer::Result)
        .map_err(|e| A2aError::new(A2aErrorKind::Internal, e.to_string()))
}

async fn call(
    state: &AppState,
    caller: &Caller,
    agent_key: &str,
    method: &str,
    raw: Value,
) -> Result<Answer, A2aError> {
    let v1 = v03::method(method);
    let raw = if v03::is_legacy(method) {
        v03::params(v1, raw)
    } else {
        raw
    };
    match v1 {
        "SendMessage" | "SendStreamingMessage" => {
            let streaming = v1 == "SendStreamingMessage";
            let req: A2aSendMessageRequest = params(raw)?;
            match service::send(state, caller, agent_key, req, streaming).await? {
                Sent::Task(task) => value(A2aSendMessageResponse {
                    task: Some(*task),
                    message: None,
                }),
                Sent::Stream(updates) => Ok(Answer::Stream(updates)),
            }
        }
        "GetTask" => {
            let req: A2aGetTaskRequest = params(raw)?;
            value(service::get_task(state, caller, agent_key, req).await?)
        }
        "ListTasks" => {
            let req: A2aListTasksRequest = params(raw)?;
            value(service::list_tasks(state, caller, agent_key, req).await?)
        }
        "CancelTask" => {
            let req: A2aTaskIdRequest = params(raw)?;
            value(service::cancel_task(state, caller, agent_key, &req.id).await?)
        }
        "SubscribeToTask" => {
            let req: A2aTaskIdRequest = params(raw)?;
            Ok(Answer::Stream(
                service::subscribe(state, caller, agent_key, &req.id).await?,
            ))
        }
        "CreateTaskPushNotificationConfig" => {
            let req: A2aTaskPushNotificationConfig = params(raw)?;
            let task_id = req.task_id.clone();
            value(push::create(state, caller, agent_key, &task_id, req).await?)
        }
        "GetTaskPushNotificationConfig" => {
            let req: A2aPushConfigRequest = params(raw)?;
            value(push::get(state, caller, agent_key, &req.task_id, &req.id).await?)
        }
        "ListTaskPushNotificationConfigs" => {
            let req: A2aListPushConfigsRequest = params(raw)?;
            value(push::list(state, caller, agent_key, &req.task_id).await?)
        }
        "DeleteTaskPushNotificationConfig" => {
            let req: A2aPushConfigRequest = params(raw)?;
            push::delete(state, caller, agent_key, &req.task_id, &req.id).await?;
            Ok(Answer::Result(Value::Object(Default::default())))
        }
        other => Err(A2aError::new(
            A2aErrorKind::MethodNotFound,
            format!("unknown method `{other}`"),
        )),
    }
}
