//! The accept loop: HTTP/1.1 and cleartext HTTP/2 (prior knowledge: the client starts with the
//! HTTP/2 preface, as a proxy or `curl --http2-prior-knowledge` does) on one listener, told apart
//! by a connection's first bytes. Both count against one cap on open connections (beyond it a
//! 503 as soon as the request starts, then close). A connection's first bytes (the HTTP/2
//! preface, or the start of an HTTP/1.1 request) must come within the header timeout; HTTP/1.1
//! then has the same deadline for each request's headers (from the moment a connection turns
//! idle too), and an HTTP/2 connection with no request open for that long is sent a GOAWAY and
//! closed. HTTP/2 connections carry at most `http2_max_concurrent_streams` requests at once,
//! have their header lists capped, and are pinged so that a dead peer's connection is dropped.
//! Shutdown is graceful for both.
//! `axum::serve` has neither a header timeout nor a cap, so thousands of clients sending headers
//! slowly could hold every file descriptor.
//!
//! HTTP/2 is what lets 10,000 streamed runs share a few client connections: over HTTP/1.1 each
//! stream holds a connection (a file descriptor) of its own.

use axum::http::{Request, Response};
use axum::Router;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::server::conn::{http1, http2};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};

/// What the accept loop enforces.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// Time a client has to send a request's headers (and to start one on an idle connection).
    pub header_read_timeout: Duration,
    /// Connections served at once.
    pub max_connections: usize,
    /// Requests (streams) one HTTP/2 connection carries at once.
    pub http2_max_concurrent_streams: u32,
}

/// How often an HTTP/2 connection is pinged; a peer that does not answer within
/// [`HTTP2_KEEP_ALIVE_TIMEOUT`] is dropped with its streams.
const HTTP2_KEEP_ALIVE_INTERVAL: Duration = Duration::from_secs(20);
/// How long an HTTP/2 ping may go unanswered.
const HTTP2_KEEP_ALIVE_TIMEOUT: Duration = Duration::from_secs(20);
/// Largest header list of one HTTP/2 request: room for a large JWT and cookies (hyper's
/// default is 16 KiB); HTTP/1.1 headers are bounded by hyper's read buffer instead.
const HTTP2_MAX_HEADER_LIST_SIZE: u32 = 64 * 1024;
/// What an HTTP/2 prior-knowledge connection starts with.
const HTTP2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// File descriptors kept free beside the connections: the database pool, MCP servers, logs,
/// and the connections being refused.
const SPARE_FILES: u64 = 256 + MAX_REFUSING as u64;
/// Connections beyond the cap that may wait at once for their request before their 503; when
/// more arrive together, the rest get it at once.
const MAX_REFUSING: usize = 64;
/// How long a connection beyond the cap has to start its request before its 503 is sent.
const REFUSAL_WAIT: Duration = Duration::from_millis(250);

/// Raises the open-file soft limit to the hard limit; returns the soft limit now in force.
pub fn raise_open_file_limit() -> Option<u64> {
    use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
    let limit = getrlimit(Resource::Nofile);
    if limit.current != limit.maximum {
        let raised = Rlimit {
            current: limit.maximum,
            maximum: limit.maximum,
        };
        match setrlimit(Resource::Nofile, raised) {
            Ok(()) => return limit.maximum.or(Some(u64::MAX)),
            Err(e) => tracing::warn!(error = %e, "could not raise the open-file limit"),
        }
    }
    limit.current.or(Some(u64::MAX))
}

/// `wanted` connections, or fewer when the open-file limit could not hold them.
pub(crate) fn connection_cap(wanted: usize, open_files: Option<u64>) -> usize {
    let Some(files) = open_files else {
        return wanted;
    };
    let room = usize::try_from(files.saturating_sub(SPARE_FILES)).unwrap_or(usize::MAX);
    if room < wanted {
        tracing::warn!(
            max_connections = wanted,
            open_file_limit = files,
            "the open-file limit is too low for max_connections: capping connections at {room}"
        );
    }
    wanted.min(room).max(1)
}

/// The connection builders: HTTP/1.1 with its header timeout, HTTP/2 with its limits.
struct Builders {
    http1: http1::Builder,
    http2: http2::Builder<TokioExecutor>,
}

impl Builders {
    fn new(limits: Limits) -> Self {
        let mut http1 = http1::Builder::new();
        http1
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_read_timeout);
        let mut http2 = http2::Builder::new(TokioExecutor::new());
        http2
            .timer(TokioTimer::new())
            .max_concurrent_streams(limits.http2_max_concurrent_streams)
            .max_header_list_size(HTTP2_MAX_HEADER_LIST_SIZE)
            .keep_alive_interval(HTTP2_KEEP_ALIVE_INTERVAL)
            .keep_alive_timeout(HTTP2_KEEP_ALIVE_TIMEOUT);
        Self { http1, http2 }
    }
}

/// Serves `app` on `listener` until `shutdown` resolves, then waits for open requests.
pub(crate) async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let builders = Arc::new(Builders::new(limits));
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let refusing = Arc::new(Semaphore::new(MAX_REFUSING));
    let graceful = GracefulShutdown::new();
    // Connections still waiting for their first bytes are not watched yet: this closes them.
    let (stopping, stopped) = watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of descriptors (or a connection reset before accept): wait, not spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            match refusing.clone().try_acquire_owned() {
                Ok(refusing) => {
                    tokio::spawn(async move {
                        let _refusing = refusing;
                        refuse_after_request(stream).await;
                    });
                }
                Err(_) => refuse(&stream),
            }
            continue;
        };
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(app.clone());
        let watcher = graceful.watcher();
        let (builders, mut stopped) = (builders.clone(), stopped.clone());
        tokio::spawn(async move {
            let _permit = permit;
            // The builder would wait for these bytes with no deadline (a silent connection
            // would hold its place for good); once they are in, it tells the protocol at once.
            let http2 = tokio::select! {
                first = tokio::time::timeout(limits.header_read_timeout, first_bytes(&stream)) => {
                    match first {
                        Ok(Ok(http2)) => http2,
                        _ => return,
                    }
                }
                _ = stopped.wait_for(|stopped| *stopped) => return,
            };
            let io = TokioIo::new(stream);
            let ended = if http2 {
                let service = Tracked {
                    inner: service,
                    open: OpenRequests::default(),
                };
                serve_http2(&builders.http2, io, service, limits, stopped, watcher).await
            } else {
                // hyper closes an idle HTTP/1.1 connection itself (the header timeout).
                watcher
                    .watch(builders.http1.serve_connection(io, service))
                    .await
            };
            if let Err(e) = ended {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    let _ = stopping.send(true);
    graceful.shutdown().await;
    Ok(())
}

/// Serves one HTTP/2 connection until it ends. hyper keeps an HTTP/2 connection that answers
/// its pings open for good: one with no request open for a header timeout is closed, as an idle
/// HTTP/1.1 connection is, so idle connections cannot hold every place under the cap. It is
/// closed as at shutdown, with a GOAWAY first: a client that sent a request just then learns it
/// was not taken and can retry it, and no client reuses the connection after.
async fn serve_http2<S, B>(
    builder: &http2::Builder<TokioExecutor>,
    io: TokioIo<TcpStream>,
    service: Tracked<S>,
    limits: Limits,
    mut stopped: watch::Receiver<bool>,
    // Held, not used to watch: the server's shutdown waits until it is dropped.
    _shutdown_waits: hyper_util::server::graceful::Watcher,
) -> Result<(), hyper::Error>
where
    S: hyper::service::Service<Request<Incoming>, Response = Response<B>> + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>> + 'static,
    B: Body + Unpin + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let open = service.open.clone();
    let connection = builder.serve_connection(io, service);
    tokio::pin!(connection);
    let idle = open.idle_for(limits.header_read_timeout);
    tokio::pin!(idle);
    let idle_closing = tokio::select! {
        ended = connection.as_mut() => return ended,
        () = &mut idle => true,
        _ = stopped.wait_for(|stopped| *stopped) => false,
    };
    connection.as_mut().graceful_shutdown();
    if !idle_closing {
        // Shutdown: open requests finish, however long they take (as on HTTP/1.1).
        return connection.await;
    }
    // A request that came before the peer saw the GOAWAY is served; with none open for a
    // header timeout (a peer that never acknowledges the GOAWAY) the connection is dropped.
    tokio::select! {
        ended = connection => ended,
        () = open.idle_for(limits.header_read_timeout) => Ok(()),
    }
}

/// Waits, without reading them, for the first bytes that tell the protocol: whether they are
/// the whole HTTP/2 preface, or depart from it (HTTP/1.1), or the stream ended.
async fn first_bytes(stream: &TcpStream) -> std::io::Result<bool> {
    let mut buf = [0u8; HTTP2_PREFACE.len()];
    loop {
        let n = stream.peek(&mut buf).await?;
        if n == 0 || buf[..n] != HTTP2_PREFACE[..n] {
            return Ok(false);
        }
        if n == buf.len() {
            return Ok(true);
        }
        // Part of the preface: peeking again would return the same bytes at once.
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// The requests open on one connection: from the service's call until hyper drops the response
/// body (sent whole, or the stream reset).
#[derive(Clone, Default)]
struct OpenRequests(Arc<watch::Sender<usize>>);

impl OpenRequests {
    /// Counts a request as open until the returned guard is dropped.
    fn open(&self) -> RequestOpen {
        self.0.send_modify(|n| *n += 1);
        RequestOpen(self.0.clone())
    }

    /// Resolves once no request has been open for `timeout`.
    async fn idle_for(&self, timeout: Duration) {
        let mut open = self.0.subscribe();
        loop {
            // Never an error: `self` holds the sender.
            let _ = open.wait_for(|n| *n == 0).await;
            if tokio::time::timeout(timeout, open.wait_for(|n| *n > 0))
                .await
                .is_err()
            {
                return;
            }
        }
    }
}

/// One open request of [`OpenRequests`].
struct RequestOpen(Arc<watch::Sender<usize>>);

impl Drop for RequestOpen {
    fn drop(&mut self) {
        self.0.send_modify(|n| *n -= 1);
    }
}

/// An HTTP/2 connection's service that counts its open requests.
struct Tracked<S> {
    inner: S,
    open: OpenRequests,
}

impl<S, B> hyper::service::Service<Request<Incoming>> for Tracked<S>
where
    S: hyper::service::Service<Request<Incoming>, Response = Response<B>>,
    S::Future: Send + 'static,
    S::Error: 'static,
    B: 'static,
{
    type Response = Response<TrackedBody<B>>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, S::Error>> + Send>>;

    fn call(&self, request: Request<Incoming>) -> Self::Future {
        let open = self.open.open();
        let response = self.inner.call(request);
        Box::pin(async move {
            let response = response.await?;
            Ok(response.map(|inner| TrackedBody { inner, _open: open }))
        })
    }
}

/// A response body that keeps its request counted as open.
struct TrackedBody<B> {
    inner: B,
    _open: RequestOpen,
}

impl<B: Body + Unpin> Body for TrackedBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<B::Data>, B::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// The answer to a connection beyond the cap.
const REFUSAL: &str = concat!(
    "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n",
    "retry-after: 1\r\nconnection: close\r\ncontent-length: 156\r\n\r\n",
    r#"{"error":{"code":"unavailable","message":"too many connections; retry later","param":null,"type":"api_error"},"message":"too many connections; retry later"}"#,
);

/// Answers 503 once the request has started to arrive (or [`REFUSAL_WAIT`] has passed), then
/// closes: the server is at its connection cap. A client that gets an answer before it has sent
/// its request may take the connection for broken instead of reading the 503 (hyper's client
/// reports an unexpected message, or can even wait on it for good).
async fn refuse_after_request(mut stream: TcpStream) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    // The first byte of the request, peeked: the reads below take it with the rest.
    let _ = tokio::time::timeout(REFUSAL_WAIT, stream.peek(&mut [0u8; 1])).await;
    refuse(&stream);
    // Closing with request bytes unread would send a reset, which can discard the 503 before
    // the client reads it: end the answer, then read and drop what the client still sends for
    // a moment (as a lingering close does).
    let _ = stream.shutdown().await;
    let mut unread = [0u8; 4096];
    let _ = tokio::time::timeout(REFUSAL_WAIT, async {
        while let Ok(1..) = stream.read(&mut unread).await {}
    })
    .await;
}

/// Answers 503 without reading the request, and closes: the server is at its connection cap.
fn refuse(stream: &TcpStream) {
    // The socket's send buffer takes it at once; a client that cannot take it loses nothing.
    let _ = stream.try_write(REFUSAL.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_open_file_soft_limit_is_raised_to_the_hard_limit() {
        use rustix::process::{getrlimit, Resource};
        let soft = raise_open_file_limit();
        let now = getrlimit(Resource::Nofile);
        assert_eq!(now.current, now.maximum);
        assert_eq!(soft, Some(now.current.unwrap_or(u64::MAX)));
    }

    #[test]
    fn the_refusal_states_its_body_length() {
        let (head, body) = REFUSAL.split_once("\r\n\r\n").unwrap();
        assert!(head.ends_with(&format!("content-length: {}", body.len())));
        assert!(serde_json::from_str::<serde_json::Value>(body).is_ok());
    }

    #[test]
    fn the_connection_cap_leaves_descriptors_spare() {
        assert_eq!(connection_cap(10_000, None), 10_000);
        assert_eq!(connection_cap(10_000, Some(1_048_576)), 10_000);
        assert_eq!(connection_cap(10_000, Some(1_024)), 1_024 - 256 - 64);
        assert_eq!(connection_cap(10_000, Some(100)), 1);
    }
}
