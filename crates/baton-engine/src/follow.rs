//! Following a task's stream from any server: the stored events after a client's last id, then
//! each new one once it is stored (the store wakes the reader, whichever server stored it), with
//! the text deltas of a run in this process in their places, until the turn's last event — or,
//! when this process drains, until its run here handed over: then the client is told to
//! reconnect (to another server) for the rest.

use crate::drain::StreamDrain;
use crate::events::{Event, Received, Subscription};
use crate::machine::RunEvent;
use crate::Engine;
use baton_core::store::{EventWatch, Store, TaskEvent};
use baton_core::ProjectId;
use futures_util::stream::{self, Stream};
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One event of a followed stream.
#[derive(Debug, Clone)]
pub enum StreamItem {
    /// A typed event: a stored one (its `seq` is its id) or a live text delta (its `seq` is the
    /// id of the stored event it follows).
    Event(Arc<Event>),
    /// A stored event from before events were typed, kept in the wire's shape.
    Raw(TaskEvent),
    /// The last item of a stream this process ends because it shuts down while the turn goes
    /// on: reconnect with the last id seen, to another server, to follow the rest.
    Reconnect,
}

impl StreamItem {
    /// A stored event as a reader gets it: typed, or as stored when it predates typed events.
    pub fn stored(stored: TaskEvent) -> Self {
        match Event::from_stored(stored.seq, &stored.data) {
            Some(event) => Self::Event(Arc::new(event)),
            None => Self::Raw(stored),
        }
    }

    /// Whether it ends a turn's stream.
    pub fn is_terminal(&self) -> bool {
        match self {
            Self::Event(event) => event.is_terminal(),
            Self::Raw(stored) => matches!(
                stored.data["type"].as_str(),
                Some("response.done" | "response.failed")
            ),
            Self::Reconnect => false,
        }
    }
}

impl Engine {
    /// The task's events after the stored event `after`, then new ones as they are stored —
    /// by this process or another on the same database — until a turn's last event with none
    /// stored after it (at once if the task no longer runs). Listens from the moment it is
    /// called. When this process drains, the stream ends with [`StreamItem::Reconnect`] once
    /// the task's run here stopped (and all it stored is in the stream), or at once if it runs
    /// elsewhere.
    pub fn follow(
        &self,
        project: &ProjectId,
        task_id: &str,
        after: u64,
    ) -> impl Stream<Item = StreamItem> + Send + 'static {
        self.follower(project, task_id, after, None)
    }

    /// One turn's events: those of the turn `response_id` after the stored event `after` (the
    /// events of turns before it are skipped), until its last event — or until the task stops
    /// without having started it (the message that starts it waits behind a pause). Listens
    /// from the moment it is called.
    pub fn follow_turn(
        &self,
        project: &ProjectId,
        task_id: &str,
        after: u64,
        response_id: &str,
    ) -> impl Stream<Item = StreamItem> + Send + 'static {
        let turn = TurnWatch {
            response_id: response_id.to_owned(),
            begun: false,
        };
        self.follower(project, task_id, after, Some(turn))
    }

    fn follower(
        &self,
        project: &ProjectId,
        task_id: &str,
        after: u64,
        turn: Option<TurnWatch>,
    ) -> impl Stream<Item = StreamItem> + Send + 'static {
        let follower = Follower {
            turn,
            live: self.subscribe(task_id),
            watch: self.inner.store.watch_events(task_id),
            drain: self.inner.drain.stream_watch(task_id),
            store: self.inner.store.clone(),
            project: project.clone(),
            task_id: task_id.to_owned(),
            last: after,
            queue: VecDeque::new(),
            deltas: VecDeque::new(),
            look: true,
            live_open: true,
            ended: false,
            state_checked: None,
        };
        stream::unfold(follower, |mut follower| async move {
            let item = follower.next().await?;
            Some((item, follower))
        })
    }
}

/// The one turn a follower follows.
struct TurnWatch {
    response_id: String,
    /// Whether its `Started` was read.
    begun: bool,
}

struct Follower {
    /// Only this turn's events, when set.
    turn: Option<TurnWatch>,
    store: Arc<dyn Store>,
    project: ProjectId,
    task_id: String,
    /// This process's live events of the task: deltas, and hints that more are stored.
    live: Subscription,
    watch: Box<dyn EventWatch>,
    /// Whether this process drains, and whether the task's run here stopped.
    drain: StreamDrain,
    /// Seq of the last stored event queued.
    last: u64,
    queue: VecDeque<StreamItem>,
    /// Live deltas received but not yet placed after the stored event they follow.
    deltas: VecDeque<Arc<Event>>,
    /// Whether to read the store before waiting again.
    look: bool,
    live_open: bool,
    ended: bool,
    /// When the task's state was last read.
    state_checked: Option<Instant>,
}

const STATE_CHECK_EVERY: Duration = Duration::from_secs(5);

impl Follower {
    async fn next(&mut self) -> Option<StreamItem> {
        loop {
            if let Some(item) = self.queue.pop_front() {
                return Some(item);
            }
            if self.ended {
                return None;
            }
            if self.look {
                self.look = false;
                if !self.read(u64::MAX).await && self.due_state_check() && self.finished().await {
                    // An inactive task's events were stored with its state: all are readable.
                    self.read(u64::MAX).await;
                    self.ended = true;
                }
                continue;
            }
            // Live events first: deltas published before an event was stored go out before it.
            tokio::select! {
                biased;
                live = self.live.recv(), if self.live_open => match live {
                    // Stored events come from the store, which wakes the watch for them too.
                    Some(event) if event.is_persisted() => {}
                    Some(delta) => self.delta(delta).await,
                    None => self.live_open = false,
                },
                () = self.watch.changed() => self.look = true,
                () = self.drain.must_end() => self.reconnect().await,
            }
        }
    }

    /// Ends the stream of a draining process: what is stored (the handed-over run's last
    /// checkpoint included), then — unless that ended the turn — the hint to reconnect.
    async fn reconnect(&mut self) {
        self.read(u64::MAX).await;
        if !self.ended {
            self.queue.push_back(StreamItem::Reconnect);
            self.ended = true;
        }
    }

    /// A live delta, after the stored events it follows; a stale one is dropped (the part's
    /// `part.done` carries the whole text).
    async fn delta(&mut self, delta: Arc<Event>) {
        let seq = delta.seq;
        self.deltas.push_back(delta);
        if seq > self.last {
            self.read(seq).await;
        } else {
            self.place_deltas();
        }
    }

    /// Takes the live deltas already sent, in the order they were sent.
    fn take_live(&mut self) {
        while self.live_open {
            match self.live.try_recv() {
                Received::Event(event) if !event.is_persisted() => self.deltas.push_back(event),
                Received::Event(_) => {}
                Received::Empty => break,
                Received::Closed => self.live_open = false,
            }
        }
    }

    /// Queues the taken deltas that follow the last stored event queued; drops older ones
    /// (their place has gone out) and keeps later ones for their event.
    fn place_deltas(&mut self) {
        while self.deltas.front().is_some_and(|d| d.seq <= self.last) {
            let Some(delta) = self.deltas.pop_front() else {
                break;
            };
            let in_turn = self.turn.as_ref().is_none_or(|t| t.begun);
            if delta.seq == self.last && !self.ended && in_turn {
                self.queue.push_back(StreamItem::Event(delta));
            }
        }
    }

    /// Queues the stored events after the last one, up to seq `upto`; whether any came.
    async fn read(&mut self, upto: u64) -> bool {
        let stored = match self.store.events_after(&self.task_id, self.last).await {
            Ok(stored) => stored,
            Err(e) => {
                // The next wake-up or fallback look tries again.
                tracing::warn!(task = %self.task_id, error = %e, "reading the task's events failed");
                return false;
            }
        };
        // Every delta that follows one of these events was sent before the next event was
        // stored, so before this read: taken now, each goes right after its event, however
        // late this reader is.
        self.take_live();
        self.place_deltas();
        let mut any = false;
        for event in stored {
            if event.seq > upto {
                self.look = true;
                break;
            }
            self.last = event.seq;
            let item = StreamItem::stored(event);
            if self.in_turn(&item) {
                // A turn's last event ends the stream unless later turns' events are stored
                // after it; a followed turn's last event always does.
                self.ended = item.is_terminal();
                self.queue.push_back(item);
                any = true;
            }
            self.place_deltas();
            if self.ended && self.turn.is_some() {
                break;
            }
        }
        any
    }

    /// Whether a stored event belongs to the followed turn (every event does when no turn is
    /// followed): the turn's own `Started` and what follows it.
    fn in_turn(&mut self, item: &StreamItem) -> bool {
        let Some(turn) = &mut self.turn else {
            return true;
        };
        if !turn.begun {
            turn.begun = matches!(item, StreamItem::Event(e)
                if matches!(&e.event, RunEvent::Started { response_id, .. } if *response_id == turn.response_id));
        }
        turn.begun
    }

    /// Whether to ask the task's state after a look found nothing: at once the first time (a
    /// finished task's stream ends at once), then now and then — a run's last event ends its
    /// stream; this only ends one whose task stopped without one.
    fn due_state_check(&mut self) -> bool {
        let now = Instant::now();
        let due = self
            .state_checked
            .is_none_or(|at| now.duration_since(at) >= STATE_CHECK_EVERY);
        if due {
            self.state_checked = Some(now);
        }
        due
    }

    /// Whether the task no longer runs (or is gone), so no event will come.
    async fn finished(&self) -> bool {
        let ids = [self.task_id.clone()];
        match self.store.task_states(&self.project, &ids).await {
            Ok(states) => states.get(&self.task_id).is_none_or(|s| s.is_inactive()),
            Err(e) => {
                tracing::warn!(task = %self.task_id, error = %e, "reading the task's state failed");
                false
            }
        }
    }
}
