//! Teams of agents: `retrieve_agents` and `call_sub_agent`, child tasks, usage roll-up, and the
//! bounds on recursion.

use crate::runs::{user, Rig};
use baton_e2e::Backend;
use baton_testkit::{SeenRequest, Turn};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::sync::Arc;

fn system_of(request: &SeenRequest) -> String {
    request.body["messages"][0]["content"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

fn tool_results(body: &Value) -> Vec<String> {
    body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] == "tool")
        .map(|m| m["content"].as_str().unwrap().to_owned())
        .collect()
}

async fn member(rig: &Rig, key: &str, instructions: &str, extra: Value) {
    let mut body = json!({"instructions": instructions, "role": format!("{key} role"),
                          "description": format!("{key} description")});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    rig.agent(key, "openai/gpt-4o", body).await;
}

#[tokio::test]
async fn an_orchestrator_calls_two_sub_agents_in_one_turn_as_child_tasks() {
    let rig = Rig::start(Backend::Sqlite).await;
    member(&rig, "youth-agent", "YOUTH: talk like a teen", json!({})).await;
    member(&rig, "formal-agent", "FORMAL: talk formally", json!({})).await;
    member(
        &rig,
        "tone-orchestrator",
        "ORCH: use your sub agents",
        json!({"team_of_agents": [{"key": "youth-agent", "role": "The youth agent"},
                                  {"key": "formal-agent", "role": "The formal agent"}],
               "settings": {"max_iterations": 5, "tool_approval_required": "none",
                 "tools": [{"type": "current_date"}, {"type": "retrieve_agents"}, {"type": "call_sub_agent"}]}}),
    )
    .await;
    rig.openai.set_responder(Arc::new(|req: &SeenRequest| {
        let system = system_of(req);
        if system.starts_with("YOUTH") {
            Turn::text("yo, money is lit 💸")
        } else if system.starts_with("FORMAL") {
            Turn::text("Good day. Finance matters.")
        } else if req.tool_results == 0 {
            Turn::tool_calls(vec![("retrieve_agents", json!({}))])
        } else if req.tool_results == 1 {
            Turn::tool_calls(vec![
                (
                    "call_sub_agent",
                    json!({"agent_key": "youth-agent", "message": "Intro for teens"}),
                ),
                (
                    "call_sub_agent",
                    json!({"agent_key": "formal-agent", "message": "Intro for business"}),
                ),
            ])
        } else {
            Turn::text("Both versions are above.")
        }
    }));
    let (st, body) = rig
        .respond(
            "tone-orchestrator",
            json!({"message": user("Two intros, please")}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(body["status"]["state"], "completed", "{body}");

    let requests = rig.openai.requests();
    let last = requests
        .iter()
        .rev()
        .find(|r| {
            r["messages"][0]["content"]
                .as_str()
                .unwrap()
                .starts_with("ORCH")
        })
        .unwrap();
    let results = tool_results(last);
    assert!(
        results[0].contains("youth-agent") && results[0].contains("The youth agent"),
        "{results:?}"
    );
    assert!(
        results[0].contains("formal-agent description"),
        "{results:?}"
    );
    assert!(
        results.iter().any(|r| r.contains("money is lit")),
        "{results:?}"
    );
    assert!(
        results.iter().any(|r| r.contains("Good day.")),
        "{results:?}"
    );

    // The children are tasks of their own, linked both ways.
    let children = body["child_task_ids"].as_array().unwrap();
    assert_eq!(children.len(), 2, "{body}");
    let parent = body["task_id"].as_str().unwrap();
    let mut agents = Vec::new();
    for child in children {
        let child = child.as_str().unwrap();
        for key in ["youth-agent", "formal-agent"] {
            let (st, got) = rig
                .s
                .call(
                    Method::GET,
                    &format!("/v2/agents/{key}/responses/{child}"),
                    None,
                )
                .await;
            if st == StatusCode::OK {
                assert_eq!(got["parent_task_id"], parent, "{got}");
                assert_eq!(got["status"], "completed");
                agents.push(key);
            }
        }
    }
    agents.sort();
    assert_eq!(agents, ["formal-agent", "youth-agent"]);
    // Usage rolls up: three orchestrator calls and one per child, 15 tokens each.
    assert_eq!(body["usage"]["total_tokens"], 75, "{body}");
}

#[tokio::test]
async fn agents_calling_each_other_end_with_an_error_not_a_loop() {
    let rig = Rig::start(Backend::Sqlite).await;
    let tools = json!({"tools": [{"type": "call_sub_agent"}], "max_iterations": 4});
    member(
        &rig,
        "ping",
        "PING",
        json!({"team_of_agents": [{"key": "pong"}], "settings": tools}),
    )
    .await;
    member(
        &rig,
        "pong",
        "PONG",
        json!({"team_of_agents": [{"key": "ping"}], "settings": tools}),
    )
    .await;
    rig.openai.set_responder(Arc::new(|req: &SeenRequest| {
        let system = system_of(req);
        if req.tool_results > 0 {
            return Turn::text("Stopping here.");
        }
        let next = if system.starts_with("PING") {
            "pong"
        } else {
            "ping"
        };
        Turn::tool_calls(vec![(
            "call_sub_agent",
            json!({"agent_key": next, "message": "your turn"}),
        )])
    }));
    let (st, body) = rig.respond("ping", json!({"message": user("Start")})).await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(body["status"]["state"], "completed", "{body}");
    // ping → pong, and pong's call back to ping is refused as a cycle.
    let requests = rig.openai.requests();
    assert_eq!(requests.len(), 4, "ping, pong, pong again, ping again");
    let refused = requests
        .iter()
        .flat_map(tool_results)
        .find(|r| r.contains("cycle"))
        .expect("a cycle error reached the model");
    assert!(refused.contains("ping → pong → ping"), "{refused}");
}

#[tokio::test]
async fn sub_agents_nest_only_so_deep() {
    let rig = Rig::start(Backend::Sqlite).await;
    let tools = json!({"tools": [{"type": "call_sub_agent"}], "max_iterations": 3});
    for i in 0..5 {
        let team = json!([{"key": format!("level-{}", i + 1)}]);
        member(
            &rig,
            &format!("level-{i}"),
            &format!("LEVEL{i}"),
            json!({"team_of_agents": team, "settings": tools}),
        )
        .await;
    }
    rig.openai.set_responder(Arc::new(|req: &SeenRequest| {
        if req.tool_results > 0 {
            return Turn::text("done");
        }
        let level: usize = system_of(req)[5..6].parse().unwrap();
        Turn::tool_calls(vec![(
            "call_sub_agent",
            json!({"agent_key": format!("level-{}", level + 1), "message": "go deeper"}),
        )])
    }));
    let (st, body) = rig
        .respond("level-0", json!({"message": user("Dig")}))
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(body["status"]["state"], "completed", "{body}");
    let errors: Vec<String> = rig
        .openai
        .requests()
        .iter()
        .flat_map(tool_results)
        .filter(|r| r.contains("levels deep"))
        .collect();
    assert_eq!(
        errors.len(),
        1,
        "only the deepest call is refused: {errors:?}"
    );
    // level-4 never ran: four agents answered (0..=3), each twice.
    assert_eq!(rig.openai.request_count(), 8);
}
