//! `GET /v2/tasks`: the project's tasks across agents, filtered and paged newest first; an end
//! user sees only its own.

use crate::runs::{user, Rig};
use crate::scopes::{user_token, SECRET};
use baton_e2e::{backends, Options};
use baton_testkit::Turn;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

fn ids(page: &Value) -> Vec<String> {
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["_id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn tasks_are_listed_filtered_paged_and_scoped_to_their_end_user() {
    for backend in backends() {
        let rig =
            Rig::start_with(backend, Options::default().env("BATON_JWT_SECRET", SECRET)).await;
        rig.agent("alpha", "openai/gpt-4o", json!({})).await;
        rig.agent("beta", "openai/gpt-4o", json!({})).await;
        let mut made = Vec::new();
        for (agent, thread) in [("alpha", "th-1"), ("beta", "th-1"), ("alpha", "th-2")] {
            rig.openai.push(Turn::text("done"));
            let (st, body) = rig
                .respond(
                    agent,
                    json!({"message": user("hi"), "thread": {"id": thread}}),
                )
                .await;
            assert_eq!(st, StatusCode::OK, "{body}");
            made.push(body["task_id"].as_str().unwrap().to_owned());
        }
        let newest_first: Vec<String> = made.iter().rev().cloned().collect();

        let (st, page) = rig.s.call(Method::GET, "/v2/tasks", None).await;
        assert_eq!(st, StatusCode::OK, "{page}");
        assert_eq!(ids(&page), newest_first, "{backend:?}");
        assert_eq!(page["object"], "list");
        let first = &page["data"][0];
        assert_eq!(first["agent_key"], "alpha");
        assert_eq!(first["agent_version"], 1);
        assert_eq!(first["state"], "completed");
        assert_eq!(first["thread_id"], "th-2");
        assert!(first["created"].is_string() && first["updated"].is_string());
        assert!(first.get("history").is_none() && first.get("output").is_none());

        let (_, by_agent) = rig.s.call(Method::GET, "/v2/tasks?agent=alpha", None).await;
        assert_eq!(ids(&by_agent), vec![made[2].clone(), made[0].clone()]);
        let (_, by_thread) = rig
            .s
            .call(
                Method::GET,
                "/v2/tasks?thread_id=th-1&state=completed",
                None,
            )
            .await;
        assert_eq!(ids(&by_thread), vec![made[1].clone(), made[0].clone()]);
        let (_, none) = rig
            .s
            .call(Method::GET, "/v2/tasks?state=input-required", None)
            .await;
        assert_eq!(ids(&none), Vec::<String>::new());

        let (_, one) = rig.s.call(Method::GET, "/v2/tasks?limit=1", None).await;
        assert_eq!(
            (ids(&one), one["has_more"].clone()),
            (vec![made[2].clone()], json!(true))
        );
        let (_, next) = rig
            .s
            .call(
                Method::GET,
                &format!("/v2/tasks?limit=2&starting_after={}", made[2]),
                None,
            )
            .await;
        assert_eq!(
            (ids(&next), next["has_more"].clone()),
            (vec![made[1].clone(), made[0].clone()], json!(false))
        );
        let (_, back) = rig
            .s
            .call(
                Method::GET,
                &format!("/v2/tasks?limit=1&ending_before={}", made[0]),
                None,
            )
            .await;
        assert_eq!(
            (ids(&back), back["has_more"].clone()),
            (vec![made[1].clone()], json!(true))
        );

        let (st, bad) = rig.s.call(Method::GET, "/v2/tasks?state=done", None).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(bad["error"]["param"], "state", "{bad}");

        let (st, got) = rig
            .s
            .call(Method::GET, &format!("/v2/tasks/{}", made[1]), None)
            .await;
        assert_eq!(st, StatusCode::OK, "{got}");
        assert_eq!(got["agent_key"], "beta");
        assert_eq!(got["_id"], made[1].as_str());
        let (st, _) = rig.s.call(Method::GET, "/v2/tasks/nope", None).await;
        assert_eq!(st, StatusCode::NOT_FOUND);

        // An end user without `read` lists and reads only the tasks acting for it.
        let ann = user_token("ann", None);
        rig.openai.push(Turn::text("hello ann"));
        let (st, mine) = rig
            .s
            .call_as(
                Some(&ann),
                Method::POST,
                "/v2/agents/alpha/responses",
                Some(json!({"message": user("hi")})),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{mine}");
        let mine = mine["task_id"].as_str().unwrap().to_owned();
        let (st, listed) = rig
            .s
            .call_as(Some(&ann), Method::GET, "/v2/tasks?limit=1", None)
            .await;
        assert_eq!(st, StatusCode::OK, "{listed}");
        assert_eq!(
            (ids(&listed), listed["has_more"].clone()),
            (vec![mine.clone()], json!(false))
        );
        let (st, _) = rig
            .s
            .call_as(
                Some(&ann),
                Method::GET,
                &format!("/v2/tasks/{}", made[0]),
                None,
            )
            .await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        // Pages of one's own tasks skip the others' in both directions.
        rig.openai.push(Turn::text("again"));
        let (_, second) = rig
            .s
            .call_as(
                Some(&ann),
                Method::POST,
                "/v2/agents/beta/responses",
                Some(json!({"message": user("hi")})),
            )
            .await;
        let second = second["task_id"].as_str().unwrap().to_owned();
        let (_, newer) = rig
            .s
            .call_as(
                Some(&ann),
                Method::GET,
                &format!("/v2/tasks?limit=1&ending_before={mine}"),
                None,
            )
            .await;
        assert_eq!(
            (ids(&newer), newer["has_more"].clone()),
            (vec![second.clone()], json!(false))
        );
        let (_, older) = rig
            .s
            .call_as(
                Some(&ann),
                Method::GET,
                &format!("/v2/tasks?limit=1&starting_after={second}"),
                None,
            )
            .await;
        assert_eq!(
            (ids(&older), older["has_more"].clone()),
            (vec![mine.clone()], json!(false))
        );
        let bob = user_token("bob", None);
        let (_, empty) = rig
            .s
            .call_as(Some(&bob), Method::GET, "/v2/tasks", None)
            .await;
        assert_eq!(ids(&empty), Vec::<String>::new());
        rig.s.stop().await;
    }
}
