//! The HTTP/1.1 server: one task per connection, so that a handler can close
//! its connection without answering (dropped-connection faults).

use std::convert::Infallible;
use std::sync::Arc;

use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;

use super::Shared;
use super::routes::{Reply, handle};

/// Accepts connections until `stop` turns true, then aborts the open ones.
pub async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _peer)) = accepted else {
                    // e.g. out of file descriptors: back off instead of spinning.
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                    continue;
                };
                let _ = stream.set_nodelay(true);
                connections.spawn(serve(stream, shared.clone()));
            }
            changed = stop.changed() => {
                if changed.is_err() || *stop.borrow() {
                    break;
                }
            }
            // Reap finished connections so the set does not grow forever.
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    connections.shutdown().await;
}

async fn serve(stream: tokio::net::TcpStream, shared: Arc<Shared>) {
    let kill = Arc::new(Notify::new());
    let service = {
        let kill = kill.clone();
        hyper::service::service_fn(move |req| {
            let shared = shared.clone();
            let kill = kill.clone();
            async move {
                match handle(shared, req).await {
                    Reply::Response(r) => Ok::<_, Infallible>(r),
                    Reply::Drop => {
                        // The connection task drops the connection (closing
                        // the socket) when notified; this future never ends.
                        kill.notify_one();
                        std::future::pending().await
                    }
                }
            }
        })
    };
    // A timer lets hyper enforce its header-read timeout (slow clients).
    let conn = http1::Builder::new()
        .timer(hyper_util::rt::TokioTimer::new())
        .serve_connection(TokioIo::new(stream), service);
    tokio::select! {
        _ = conn => {}
        () = kill.notified() => {}
    }
}
