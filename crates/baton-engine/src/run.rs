//! The async runner: feeds the run machine its inputs and performs the effects it returns
//! (call the model, call tools, checkpoint, publish), and nothing else.

mod conversation;
mod durable;
mod hand_over;
mod queued;
mod spans;
mod wiring;

pub(crate) use hand_over::Origin;

use crate::engine::LocalRun;
use crate::events::Event;
use crate::machine::{transition, Context, Effect, Input, Reply, RunEvent};
use crate::state::TaskData;
use crate::toolset::{run_builtin, Side, Toolset};
use crate::{builtins, now_ms, prompt, EngineError, Inner};
use baton_core::agent::AgentSpec;
use baton_core::handler::ToolContext;
use baton_core::message::Message;
use baton_core::model::{ChatRequest, OutputSchema, StreamDelta, ToolCall};
use baton_core::store::{TaskEvent, TaskRecord};
use baton_core::task::TaskState;
use baton_core::trace::SpanRecord;
use futures_util::future::BoxFuture;
use futures_util::stream::{FuturesUnordered, StreamExt};
use futures_util::FutureExt;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::Notify;

struct Runner {
    inner: Arc<Inner>,
    task: TaskRecord,
    data: TaskData,
    spec: AgentSpec,
    tools: Toolset,
    /// Events waiting for the next checkpoint, which stores them.
    pending_events: Vec<TaskEvent>,
    /// The same events, published once stored: an id a client saw names a stored event, and a
    /// client that reads the task on seeing the turn's last event finds it ended.
    unpublished: Vec<Arc<Event>>,
    /// Seq of the last event emitted; text deltas carry it and take none of their own.
    seq: Arc<AtomicU64>,
    cancel: Arc<Notify>,
    lease_lost: Arc<AtomicBool>,
    /// When the run hands its task over if this process drains.
    policy: crate::drain::HandOverPolicy,
    /// Whether it stopped to hand its task over to another server.
    handed_over: bool,
    ledger: builtins::SharedLedger,
    calls_made: Arc<std::sync::Mutex<u32>>,
    spans: Vec<SpanRecord>,
    /// Whether a cancel was requested, as the last checkpoint's write found the task's row;
    /// `None` once the run has waited on anything since (the model, tools), when it must ask.
    cancel_seen: Option<bool>,
}

/// Runs a leased task until it pauses or ends, or — when this process drains — hands it over
/// to another server at a step boundary (`HandedOver`).
pub(crate) async fn run(
    inner: Arc<Inner>,
    task: TaskRecord,
    spec: AgentSpec,
    origin: Origin,
) -> Result<TaskRecord, EngineError> {
    let mut task = task;
    let data = TaskData::take_from(&mut task)?;
    // Held until the run is over here, hand-over included: a stream of the task ends after it.
    let _running = inner.drain.run_started(&task.id);
    let policy = origin.policy(data.streaming);
    let ledger = builtins::SharedLedger::default();
    let calls_made = Arc::new(std::sync::Mutex::new(data.sub_agent_calls));
    // Boxed here and below: a run's future lives as long as the run, and without the boxes it
    // would reserve room for its largest stage (tools, a transition) while it waits on the
    // model: 7.5 KB per run in flight, 5.9 KB with them.
    let tools = Box::pin(wiring::toolset(
        &inner,
        &task,
        &data,
        &spec,
        &ledger,
        &calls_made,
    ))
    .await?;
    let cancel = Arc::new(Notify::new());
    inner
        .cancels
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(
            task.id.clone(),
            LocalRun {
                response_id: data.response_id.clone(),
                cancel: cancel.clone(),
            },
        );
    let lease_lost = Arc::new(AtomicBool::new(false));
    let renewer = durable::Renewer::start(&inner, &task.id, lease_lost.clone());
    let task_id = task.id.clone();
    let mut runner = Runner {
        seq: Arc::new(AtomicU64::new(data.event_seq)),
        inner: inner.clone(),
        task,
        data,
        spec,
        tools,
        pending_events: Vec::new(),
        unpublished: Vec::new(),
        cancel,
        lease_lost,
        policy,
        handed_over: false,
        ledger,
        calls_made,
        spans: Vec::new(),
        cancel_seen: None,
    };
    // A bug that panics mid-run must not leave the task `working` (and retried forever by
    // the workers): it fails, with its checkpoint kept.
    let result = match std::panic::AssertUnwindSafe(runner.drive())
        .catch_unwind()
        .await
    {
        Ok(result) => result,
        Err(_) => {
            tracing::error!(task = %task_id, "the run panicked");
            Box::pin(runner.step(Input::Failed(
                "internal error: the run crashed; see the server log".into(),
            )))
            .await
            .map(|_| ())
        }
    };
    renewer.stop().await;
    inner
        .cancels
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(&task_id);
    inner.hub.release(&task_id);
    if result.is_ok() && runner.handed_over {
        return Err(Box::pin(hand_over::release(&inner, &runner.task, &runner.data)).await);
    }
    result.map(|()| {
        runner.task.history = std::mem::take(&mut runner.data.history);
        runner.task
    })
}

impl Runner {
    /// Feeds the machine until the run stops on this worker, performing each effect.
    async fn drive(&mut self) -> Result<(), EngineError> {
        let mut input = Input::Start;
        loop {
            input = match Box::pin(self.step(input)).await? {
                Some(Effect::CallModel) => self.call_model().await?,
                Some(Effect::CallTools { run, rejected }) => {
                    Box::pin(self.call_tools(run, rejected)).await?
                }
                Some(_) => return Ok(()),
                None => self.next_input().await?,
            };
        }
    }

    /// One transition, its effects performed up to the first that needs the model or tools
    /// (returned) or the end of the run (`Stop`, returned).
    async fn step(&mut self, input: Input) -> Result<Option<Effect>, EngineError> {
        let effects = self.transition(input);
        for effect in effects {
            match effect {
                Effect::Publish(event) => self.emit(event),
                Effect::Enter(state) => {
                    if state == TaskState::Failed {
                        let error = self.data.error.as_deref().unwrap_or_default();
                        tracing::warn!(task = %self.task.id, error = %error, "task failed");
                    }
                    self.task.state = state;
                }
                Effect::Checkpoint => {
                    if self.checkpoint().await? == durable::Stored::Reopened {
                        // The turn's end was not stored: messages queued meanwhile decide first.
                        let ended = self.task.state;
                        return Box::pin(self.step(Input::TurnEnded { ended })).await;
                    }
                }
                Effect::NextTurn => {
                    let ended = self.task.state;
                    return Box::pin(self.step(Input::TurnEnded { ended })).await;
                }
                Effect::NewTurn => self.begin_next_turn().await?,
                Effect::Interrupted(interruption) => self.interrupted_span(&interruption),
                Effect::EndTurn { ok } => self.root_span(if ok { "ok" } else { "error" }),
                io @ (Effect::CallModel
                | Effect::CallTools { .. }
                | Effect::Stop
                | Effect::HandOver) => {
                    self.handed_over = io == Effect::HandOver;
                    // Nothing is announced that is not stored: a tool's start is stored before
                    // the tool runs.
                    if !self.pending_events.is_empty() {
                        self.checkpoint().await?;
                    }
                    return Ok(Some(io));
                }
            }
        }
        Ok(None)
    }

    fn transition(&mut self, input: Input) -> Vec<Effect> {
        let context = Context {
            spec: &self.spec,
            kinds: &self.tools,
            task_id: &self.task.id,
            now_ms: now_ms(),
        };
        transition(&mut self.data, &context, input)
    }

    fn deadline(&self) -> tokio::time::Instant {
        let limit_ms = i64::from(self.spec.settings.max_execution_time) * 1000;
        let left = (self.data.turn_started_ms + limit_ms - now_ms()).max(0) as u64;
        tokio::time::Instant::now() + std::time::Duration::from_millis(left)
    }

    /// The model request for `conversation` (the task's messages, as `conversation` gives
    /// them), which it borrows the text of.
    fn request<'c>(
        &self,
        conversation: &'c [Arc<Message>],
    ) -> Result<ChatRequest<'c>, EngineError> {
        let system =
            prompt::system_prompt(&self.spec, &self.data.variables, self.inner.cipher.as_ref())?;
        let history = conversation.iter().map(|m| &**m);
        Ok(ChatRequest {
            model: String::new(),
            system: (!system.is_empty()).then_some(system),
            messages: conversation::chat_messages(history),
            tools: self.tools.definitions.clone(),
            parameters: self.turn_parameters(),
            output_schema: self.spec.output_schema.as_ref().map(|schema| OutputSchema {
                name: "output".into(),
                schema: schema.clone(),
                strict: false,
            }),
        })
    }

    /// The model parameters the turn's request sets: its tool choice, on the turn's first call
    /// only (a forced call answered by a server-side tool must not be forced again).
    fn turn_parameters(&self) -> serde_json::Map<String, serde_json::Value> {
        let mut parameters = serde_json::Map::new();
        if let (Some(choice), 0) = (&self.data.turn_tools.choice, self.data.iterations) {
            parameters.insert("tool_choice".into(), choice.clone());
        }
        parameters
    }

    async fn call_model(&mut self) -> Result<Input, EngineError> {
        self.cancel_seen = None;
        let started_ms = now_ms();
        // The request borrows the messages' text from this list of shared messages rather than
        // from the run, which the wait below may need to change.
        let conversation: Vec<Arc<Message>> = self
            .data
            .thread_context
            .iter()
            .chain(&self.data.history)
            .cloned()
            .collect();
        let request = self.request(&conversation)?;
        let mut models = vec![self.spec.model.clone()];
        models.extend(self.spec.fallback_models.iter().cloned());
        let part_id = baton_core::id::new_id();
        let streaming = self.data.streaming;
        let hub_task = self.task.id.clone();
        let inner = self.inner.clone();
        let seq = self.seq.clone();
        let delta_part = part_id.clone();
        let sink = move |delta: StreamDelta| {
            let (reasoning, text) = match delta {
                StreamDelta::Text(t) => (false, t),
                StreamDelta::Reasoning(t) => (true, t),
            };
            let delta = RunEvent::Delta {
                part_id: delta_part.clone(),
                reasoning,
                text,
            };
            // The id of the stored event the delta follows: readers put it in its place.
            let after = seq.load(Ordering::SeqCst);
            inner
                .hub
                .publish(&hub_task, Arc::new(Event::now(after, delta)));
        };
        let gateway = self.inner.gateway.clone();
        let call = async {
            if streaming {
                gateway.chat(&models, request, Some(&sink)).await
            } else {
                gateway.chat(&models, request, None).await
            }
        };
        let cancel = self.cancel.clone();
        let reply = tokio::select! {
            r = tokio::time::timeout_at(self.deadline(), call) => match r {
                Ok(r) => r,
                Err(_) => return Ok(Input::TimedOut),
            },
            _ = cancel.notified() => return self.canceled().await,
        };
        let reply = match reply {
            Ok(reply) => reply,
            Err(e) => {
                self.llm_failed_span(&e, started_ms);
                return Ok(Input::Failed(e.to_string()));
            }
        };
        self.llm_span(&reply, started_ms);
        Ok(Input::ModelReplied {
            reply: Reply::from_gateway(reply),
            part_id,
        })
    }

    /// Starts the server-side calls in parallel; a call a reviewer rejected is answered at once
    /// with the rejection.
    fn start_tools(
        &mut self,
        calls: Vec<ToolCall>,
        rejected: Vec<(ToolCall, String)>,
    ) -> RunningTools {
        let variables = Arc::new(self.data.variables.clone());
        let mut running = RunningTools::default();
        for (call, message) in rejected {
            running
                .futures
                .push(Box::pin(async move { (call, Err(message)) }));
        }
        for call in calls {
            let side = self.tools.side(&call.name);
            let cipher = self.inner.cipher.clone();
            let variables = variables.clone();
            let span_id = crate::random_hex(8);
            running
                .spans
                .insert(call.id.clone(), (span_id.clone(), now_ms()));
            let trace = Some((self.data.trace_id.clone(), span_id));
            let idempotency_key = Some(idempotency_key(&self.task.id, &call.id));
            // Each call runs in its own task: a tool that panics fails that call, not the run.
            let ours = call.clone();
            let handle = tokio::spawn(async move {
                match side {
                    Some(Side::Builtin(tool)) => run_builtin(tool, &call),
                    Some(Side::Server(handler)) => {
                        let ctx = ToolContext {
                            variables: &variables,
                            cipher: cipher.as_ref(),
                            trace,
                            idempotency_key,
                        };
                        // The model sees the error's text; its kind is for the embedder's code.
                        handler
                            .call(call.arguments.clone(), &ctx)
                            .await
                            .map_err(|e| e.to_string())
                    }
                    _ => Err(format!("tool `{}` cannot run on the server", call.name)),
                }
            });
            running.aborts.push(handle.abort_handle());
            running.futures.push(Box::pin(async move {
                let result = match handle.await {
                    Ok(result) => result,
                    Err(e) if e.is_panic() => Err("the tool crashed while running".to_owned()),
                    Err(_) => Err("the tool call was stopped".to_owned()),
                };
                (ours, result)
            }));
        }
        running
    }

    /// Runs server-side calls in parallel, checkpointing each result as it lands so a resumed
    /// task never runs a finished call again. The next input once all landed, time ran out or
    /// the run was canceled.
    async fn call_tools(
        &mut self,
        calls: Vec<ToolCall>,
        rejected: Vec<(ToolCall, String)>,
    ) -> Result<Input, EngineError> {
        let mut running = self.start_tools(calls, rejected);
        let cancel = self.cancel.clone();
        loop {
            if running.futures.is_empty() {
                // All landed, the last one checkpointed just now.
                return self.next_input().await;
            }
            self.cancel_seen = None;
            let next = tokio::select! {
                n = running.futures.next() => n,
                _ = cancel.notified() => {
                    running.stop_all();
                    return self.canceled().await;
                }
                _ = tokio::time::sleep_until(self.deadline()) => {
                    running.stop_all();
                    return self.next_input().await;
                }
            };
            let Some((call, result)) = next else {
                return self.next_input().await;
            };
            let tool_id = self.tools.tool_id(&call.name).to_owned();
            self.tool_span(&call, &tool_id, &result, running.spans.remove(&call.id));
            let landed = self.landed(call, result);
            self.step(landed).await?;
        }
    }

    /// A tool call's result with what sub-agents spent and started meanwhile.
    fn landed(&self, call: ToolCall, result: Result<Value, String>) -> Input {
        let mut ledger = self.ledger.lock().unwrap_or_else(|e| e.into_inner());
        let spent = std::mem::take(&mut ledger.usage);
        let children = std::mem::take(&mut ledger.children);
        drop(ledger);
        Input::ToolReturned {
            call,
            result,
            spent,
            children,
            sub_agent_calls: *self.calls_made.lock().unwrap_or_else(|e| e.into_inner()),
        }
    }

    async fn next_input(&mut self) -> Result<Input, EngineError> {
        let cancel_requested = match self.cancel_seen.take() {
            Some(seen) => seen,
            None => self.cancel_requested().await?,
        };
        Ok(Input::Next {
            now_ms: now_ms(),
            cancel_requested,
            hand_over: self.inner.drain.asks(self.policy),
        })
    }
}

/// The key every attempt of one tool call carries, so a tool can tell a repeated request.
pub(crate) fn idempotency_key(task_id: &str, call_id: &str) -> String {
    format!("{task_id}:{call_id}")
}

/// The server-side calls of one step while they run.
#[derive(Default)]
struct RunningTools {
    futures: FuturesUnordered<BoxFuture<'static, (ToolCall, Result<Value, String>)>>,
    aborts: Vec<tokio::task::AbortHandle>,
    /// Span id and start of each call, by call id.
    spans: HashMap<String, (String, i64)>,
}

impl RunningTools {
    fn stop_all(&self) {
        for abort in &self.aborts {
            abort.abort();
        }
    }
}
