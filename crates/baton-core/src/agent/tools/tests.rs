//! Round trips of every entry shape, and the errors of bad ones.

use super::*;
use serde_json::json;

/// Parses an entry and writes it back.
fn round_trip(wire: Value) -> (AgentTool, Value) {
    let entry: AgentTool = serde_json::from_value(wire).unwrap();
    let back = serde_json::to_value(&entry).unwrap();
    (entry, back)
}

#[test]
fn builtins_round_trip_with_their_configuration() {
    let wire = json!({"type": "current_date", "requires_approval": false});
    let (entry, back) = round_trip(wire.clone());
    assert_eq!(entry.builtin(), Some(BuiltinTool::CurrentDate));
    assert_eq!(back, wire);

    let wire = json!({"id": "01J", "type": "file_system", "requires_approval": true,
        "configuration": {"file_system_key": "docs", "access_mode": "read_only"},
        "display_name": "Files", "description": "The team's files"});
    let (entry, back) = round_trip(wire.clone());
    assert!(
        matches!(entry.tool, ToolEntry::Builtin { tool: BuiltinTool::FileSystem,
        configuration: Some(ref c) } if c["access_mode"] == "read_only")
    );
    assert_eq!(back, wire);
}

#[test]
fn references_round_trip_for_every_custom_type() {
    for kind in CustomToolType::ALL {
        let wire = json!({"type": kind.name(), "key": "weather", "requires_approval": false});
        let (entry, back) = round_trip(wire.clone());
        assert_eq!(entry.stored_reference(), Some("weather"));
        assert_eq!(back, wire, "{}", kind.name());
    }
    let resolved = json!({"id": "01JTOOL", "type": "http", "key": "weather",
        "requires_approval": true, "timeout": 12.5});
    let (entry, back) = round_trip(resolved.clone());
    assert_eq!(entry.stored_reference(), Some("01JTOOL"), "the id wins");
    assert_eq!(back, resolved);

    let one_of_server = json!({"id": "01JMCP", "type": "mcp", "key": "everything",
        "requires_approval": false, "tool_id": "get-sum", "timeout": 30.0});
    assert_eq!(round_trip(one_of_server.clone()).1, one_of_server);

    let server_by_tool_id = json!({"type": "mcp", "tool_id": "01JMCP",
        "requires_approval": false});
    let (entry, back) = round_trip(server_by_tool_id.clone());
    assert_eq!(entry.stored_reference(), Some("01JMCP"));
    assert_eq!(back, server_by_tool_id);
}

#[test]
fn inline_function_and_code_round_trip() {
    let function = json!({"id": "01JF", "type": "function", "key": "get_local_events",
        "requires_approval": false, "display_name": "Events", "description": "Local events",
        "function": {"name": "get_local_events", "description": "Events in a city",
                     "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}});
    let (entry, back) = round_trip(function.clone());
    assert!(matches!(&entry.tool, ToolEntry::Function(f) if f.function.name == "get_local_events"));
    assert_eq!(back, function);

    let code = json!({"type": "code", "key": "password_generator", "requires_approval": false,
        "description": "Makes passwords", "language": "python", "code": "result = 1",
        "parameters": {"type": "object", "properties": {}}, "timeout": 5.0});
    let (entry, back) = round_trip(code.clone());
    let ToolEntry::Code(inline) = &entry.tool else {
        panic!("not inline code: {entry:?}");
    };
    assert_eq!(inline.definition().language, "python");
    assert_eq!(back, code);

    let no_language = json!({"type": "code", "key": "k", "requires_approval": false,
        "code": "result = 2"});
    assert_eq!(
        round_trip(no_language.clone()).1,
        no_language,
        "no language stays absent"
    );
}

#[test]
fn fields_an_entry_does_not_use_are_ignored_like_unknown_ones() {
    let (_, back) = round_trip(json!({"id": "01J", "type": "current_date",
        "action_type": "current_date", "timeout": 3, "key": "x"}));
    assert_eq!(
        back,
        json!({"id": "01J", "type": "current_date", "requires_approval": false})
    );
}

/// The serde error of an entry, as a path-tracking reader sees it.
fn parse_error(wire: Value) -> (String, String) {
    let err = serde_json::from_value::<AgentTool>(wire)
        .unwrap_err()
        .to_string();
    match ValidationError::from_serde_message(&err) {
        Some(e) => (e.field, e.message),
        None => (String::new(), err),
    }
}

#[test]
fn bad_entries_name_the_field() {
    let cases = [
        (
            json!({"type": "teleport"}),
            "type",
            "unknown tool type `teleport`",
        ),
        (
            json!({"type": "http", "function": {"name": "f"}}),
            "function",
            "needs `type: function`",
        ),
        (
            json!({"type": "current_date", "code": "x"}),
            "code",
            "needs `type: code`",
        ),
        (json!({"type": "code", "code": "x"}), "key", "needs a `key`"),
        (
            json!({"type": "http"}),
            "",
            "must reference a tool by `key` or `id`",
        ),
        (
            json!({"type": "function", "tool_id": "x"}),
            "",
            "must reference a tool",
        ),
    ];
    for (wire, field, message) in cases {
        let (got_field, got_message) = parse_error(wire.clone());
        assert_eq!(got_field, field, "{wire}");
        assert!(got_message.contains(message), "{wire}: {got_message}");
    }
    let (_, message) = parse_error(json!({"key": "k"}));
    assert_eq!(message, "missing field `type`");
}

#[test]
fn validation_names_the_field_of_the_entry() {
    let cases = [
        (
            json!({"type": "function", "function": {"name": ""}}),
            "t.function.name",
        ),
        (
            json!({"type": "code", "key": "bad key", "code": "x"}),
            "t.key",
        ),
        (
            json!({"type": "code", "key": "k", "code": "x", "language": "ruby"}),
            "t.language",
        ),
        (json!({"type": "code", "key": "k", "code": ""}), "t.code"),
        (
            json!({"type": "code", "key": "k", "code": "x", "parameters": []}),
            "t.parameters",
        ),
        (
            json!({"type": "http", "key": "k", "timeout": 0}),
            "t.timeout",
        ),
        (
            json!({"type": "code", "key": "k", "code": "x", "timeout": 601}),
            "t.timeout",
        ),
    ];
    for (wire, field) in cases {
        let entry: AgentTool = serde_json::from_value(wire.clone()).unwrap();
        assert_eq!(entry.validate("t").unwrap_err().field, field, "{wire}");
    }
}
