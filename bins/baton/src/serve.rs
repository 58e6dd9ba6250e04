//! The accept loop: HTTP/1.1 connections with a deadline for request headers (from the moment a
//! connection opens or turns idle), a cap on open connections (beyond it a quick 503, then
//! close) and graceful shutdown. `axum::serve` has neither a header timeout nor a cap, so
//! thousands of clients sending headers slowly could hold every file descriptor.

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

/// What the accept loop enforces.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// Time a client has to send a request's headers (and to start one on an idle connection).
    pub header_read_timeout: Duration,
    /// Connections served at once.
    pub max_connections: usize,
}

/// File descriptors kept free beside the connections: the database pool, MCP servers, logs.
const SPARE_FILES: u64 = 256;

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

/// Serves `app` on `listener` until `shutdown` resolves, then waits for open requests.
pub(crate) async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
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
            refuse(&stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(app.clone());
        let connection = builder.serve_connection(TokioIo::new(stream), service);
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let _permit = permit;
            if let Err(e) = watcher.watch(connection).await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// Answers 503 without reading the request, and closes: the server is at its connection cap.
fn refuse(stream: &TcpStream) {
    const BODY: &str = r#"{"error":{"code":"unavailable","message":"too many connections; retry later","param":null,"type":"api_error"},"message":"too many connections; retry later"}"#;
    let answer = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n\
         retry-after: 1\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{BODY}",
        BODY.len()
    );
    // The socket's send buffer takes it at once; a client that cannot take it loses nothing.
    let _ = stream.try_write(answer.as_bytes());
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
    fn the_connection_cap_leaves_descriptors_spare() {
        assert_eq!(connection_cap(10_000, None), 10_000);
        assert_eq!(connection_cap(10_000, Some(1_048_576)), 10_000);
        assert_eq!(connection_cap(10_000, Some(1_024)), 1_024 - 256);
        assert_eq!(connection_cap(10_000, Some(100)), 1);
    }
}
