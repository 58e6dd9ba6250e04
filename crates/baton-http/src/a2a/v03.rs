//! A2A v0.3 over JSON-RPC: its method names, its parameters and its result shapes
//! (`kind`-tagged objects, lower-case states and roles), translated to and from v1.0's.

use serde_json::{json, Map, Value};

/// Whether `method` is a v0.3 name (they have a `/`).
pub(crate) fn is_legacy(method: &str) -> bool {
    method.contains('/')
}

/// The v1.0 name of a method (v1.0 names stay as they are).
pub(crate) fn method(method: &str) -> &str {
    match method {
        "message/send" => "SendMessage",
        "message/stream" => "SendStreamingMessage",
        "tasks/get" => "GetTask",
        "tasks/list" => "ListTasks",
        "tasks/cancel" => "CancelTask",
        "tasks/resubscribe" => "SubscribeToTask",
        "tasks/pushNotificationConfig/set" => "CreateTaskPushNotificationConfig",
        "tasks/pushNotificationConfig/get" => "GetTaskPushNotificationConfig",
        "tasks/pushNotificationConfig/list" => "ListTaskPushNotificationConfigs",
        "tasks/pushNotificationConfig/delete" => "DeleteTaskPushNotificationConfig",
        other => other,
    }
}

/// v0.3 parameters of the v1.0 method `v1` in v1.0's shape.
pub(crate) fn params(v1: &str, raw: Value) -> Value {
    let Value::Object(mut p) = raw else {
        return raw;
    };
    match v1 {
        "SendMessage" | "SendStreamingMessage" => {
            if let Some(m) = p.get_mut("message") {
                message_in(m);
            }
            if let Some(Value::Object(config)) = p.get_mut("configuration") {
                if config.get("blocking") == Some(&Value::Bool(false)) {
                    config.insert("returnImmediately".into(), Value::Bool(true));
                }
                if let Some(push) = config.remove("pushNotificationConfig") {
                    config.insert("taskPushNotificationConfig".into(), push_in(push, None));
                }
            }
        }
        "CreateTaskPushNotificationConfig" => {
            let task_id = p.get("taskId").cloned();
            let config = p.remove("pushNotificationConfig").unwrap_or_default();
            return push_in(config, task_id);
        }
        "GetTaskPushNotificationConfig" | "DeleteTaskPushNotificationConfig" => {
            let task_id = p.remove("id").unwrap_or_default();
            let id = p.remove("pushNotificationConfigId").unwrap_or_default();
            return json!({"taskId": task_id, "id": id});
        }
        "ListTaskPushNotificationConfigs" => {
            let task_id = p.remove("id").unwrap_or_default();
            return json!({"taskId": task_id});
        }
        _ => {}
    }
    Value::Object(p)
}

fn push_in(config: Value, task_id: Option<Value>) -> Value {
    let Value::Object(mut c) = config else {
        return config;
    };
    if let Some(task_id) = task_id {
        c.insert("taskId".into(), task_id);
    }
    if let Some(Value::Object(auth)) = c.get_mut("authentication") {
        if let Some(scheme) = auth.remove("schemes").and_then(|s| s.get(0).cloned()) {
            auth.insert("scheme".into(), scheme);
        }
    }
    Value::Object(c)
}

/// A v0.3 message's parts in v1.0's shape.
fn message_in(m: &mut Value) {
    let Some(parts) = m.get_mut("parts").and_then(Value::as_array_mut) else {
        return;
    };
    for part in parts {
        let Value::Object(p) = part else { continue };
        p.remove("kind");
        if let Some(Value::Object(file)) = p.remove("file") {
            for (from, to) in [
                ("uri", "url"),
                ("bytes", "raw"),
                ("mimeType", "mediaType"),
                ("name", "filename"),
            ] {
                if let Some(v) = file.get(from) {
                    p.insert(to.into(), v.clone());
                }
            }
        }
    }
}

/// A v1.0 result in v0.3's shape.
pub(crate) fn result(v: Value) -> Value {
    let Value::Object(mut o) = v else { return v };
    if o.len() == 1 {
        if let Some(task) = o.remove("task") {
            return task_out(task);
        }
        if let Some(message) = o.remove("message") {
            return message_out(message);
        }
        if let Some(update) = o.remove("statusUpdate") {
            return status_update_out(update);
        }
        if let Some(update) = o.remove("artifactUpdate") {
            return artifact_update_out(update);
        }
    }
    if let Some(Value::Array(configs)) = o.remove("configs") {
        return Value::Array(configs.into_iter().map(push_out).collect());
    }
    if o.is_empty() {
        return Value::Null;
    }
    if o.contains_key("contextId") && o.contains_key("status") {
        return task_out(Value::Object(o));
    }
    if o.contains_key("url") && o.contains_key("taskId") {
        return push_out(Value::Object(o));
    }
    if let Some(Value::Array(tasks)) = o.remove("tasks") {
        o.insert(
            "tasks".into(),
            Value::Array(tasks.into_iter().map(task_out).collect()),
        );
    }
    Value::Object(o)
}

fn lower_enum(v: &Value, prefix: &str) -> Value {
    match v.as_str() {
        Some(s) => Value::String(
            s.trim_start_matches(prefix)
                .to_ascii_lowercase()
                .replace('_', "-"),
        ),
        None => v.clone(),
    }
}

fn task_out(task: Value) -> Value {
    let Value::Object(mut t) = task else {
        return task;
    };
    t.insert("kind".into(), json!("task"));
    if let Some(status) = t.remove("status") {
        t.insert("status".into(), status_out(status));
    }
    if let Some(Value::Array(history)) = t.remove("history") {
        t.insert(
            "history".into(),
            Value::Array(history.into_iter().map(message_out).collect()),
        );
    }
    if let Some(Value::Array(artifacts)) = t.remove("artifacts") {
        t.insert(
            "artifacts".into(),
            Value::Array(artifacts.into_iter().map(artifact_out).collect()),
        );
    }
    Value::Object(t)
}

fn status_out(status: Value) -> Value {
    let Value::Object(mut s) = status else {
        return status;
    };
    if let Some(state) = s.get("state") {
        let state = lower_enum(state, "TASK_STATE_");
        s.insert("state".into(), state);
    }
    if let Some(message) = s.remove("message") {
        s.insert("message".into(), message_out(message));
    }
    Value::Object(s)
}

fn message_out(message: Value) -> Value {
    let Value::Object(mut m) = message else {
        return message;
    };
    m.insert("kind".into(), json!("message"));
    if let Some(role) = m.get("role") {
        let role = lower_enum(role, "ROLE_");
        m.insert("role".into(), role);
    }
    parts_out(&mut m);
    Value::Object(m)
}

fn artifact_out(artifact: Value) -> Value {
    let Value::Object(mut a) = artifact else {
        return artifact;
    };
    parts_out(&mut a);
    Value::Object(a)
}

fn parts_out(holder: &mut Map<String, Value>) {
    if let Some(Value::Array(parts)) = holder.remove("parts") {
        holder.insert(
            "parts".into(),
            Value::Array(parts.into_iter().map(part_out).collect()),
        );
    }
}

fn part_out(part: Value) -> Value {
    let Value::Object(mut p) = part else {
        return part;
    };
    let mut out = Map::new();
    if let Some(metadata) = p.remove("metadata") {
        out.insert("metadata".into(), metadata);
    }
    if let Some(text) = p.remove("text") {
        out.insert("kind".into(), json!("text"));
        out.insert("text".into(), text);
    } else if let Some(data) = p.remove("data") {
        out.insert("kind".into(), json!("data"));
        out.insert("data".into(), data);
    } else {
        let mut file = Map::new();
        for (from, to) in [
            ("url", "uri"),
            ("raw", "bytes"),
            ("mediaType", "mimeType"),
            ("filename", "name"),
        ] {
            if let Some(v) = p.remove(from) {
                file.insert(to.into(), v);
            }
        }
        out.insert("kind".into(), json!("file"));
        out.insert("file".into(), Value::Object(file));
    }
    Value::Object(out)
}

fn status_update_out(update: Value) -> Value {
    let Value::Object(mut u) = update else {
        return update;
    };
    u.insert("kind".into(), json!("status-update"));
    if let Some(status) = u.remove("status") {
        let status = status_out(status);
        let state = status["state"].as_str().unwrap_or_default();
        // v0.3 marks the last event of a stream.
        let last = matches!(
            state,
            "completed" | "failed" | "canceled" | "rejected" | "input-required" | "auth-required"
        );
        u.insert("final".into(), Value::Bool(last));
        u.insert("status".into(), status);
    }
    Value::Object(u)
}

fn artifact_update_out(update: Value) -> Value {
    let Value::Object(mut u) = update else {
        return update;
    };
    u.insert("kind".into(), json!("artifact-update"));
    if let Some(artifact) = u.remove("artifact") {
        u.insert("artifact".into(), artifact_out(artifact));
    }
    Value::Object(u)
}

fn push_out(config: Value) -> Value {
    let Value::Object(mut c) = config else {
        return config;
    };
    let task_id = c.remove("taskId").unwrap_or_default();
    c.remove("tenant");
    if let Some(Value::Object(auth)) = c.get_mut("authentication") {
        if let Some(scheme) = auth.remove("scheme") {
            auth.insert("schemes".into(), json!([scheme]));
        }
    }
    json!({"taskId": task_id, "pushNotificationConfig": c})
}
