//! A loopback HTTP receiver for the outbound tests: it records every request (method, raw
//! path and query, headers, body) and answers each with the next planned reply — a status and
//! body, or no answer at all — then 200 once the plan is used up.

#![allow(dead_code)] // each test binary uses its own part of this module

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::IntoResponse;

/// What the receiver does with one request.
#[derive(Debug, Clone)]
pub enum Reply {
    Status(u16, &'static str),
    /// Never answers (the connection stays open).
    Hang,
}

/// One request as received.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: Method,
    /// The path and query exactly as sent (nothing decoded).
    pub target: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Received {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

#[derive(Default)]
struct Shared {
    received: Mutex<Vec<Received>>,
    plan: Mutex<VecDeque<Reply>>,
    default: Mutex<Option<Reply>>,
}

/// A running receiver.
#[derive(Clone)]
pub struct Receiver {
    pub url: String,
    shared: Arc<Shared>,
}

impl Receiver {
    /// Starts a receiver on 127.0.0.1 with a free port; it lives as long as the runtime.
    pub async fn start() -> Receiver {
        let shared = Arc::new(Shared::default());
        let router = axum::Router::new()
            .fallback(receive)
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port");
        let address = listener.local_addr().expect("local address");
        tokio::spawn(async move {
            axum::serve(listener, router).await.ok();
        });
        Receiver {
            url: format!("http://{address}"),
            shared,
        }
    }

    /// The next replies, in order.
    pub fn plan(&self, replies: impl IntoIterator<Item = Reply>) {
        self.shared.plan.lock().unwrap().extend(replies);
    }

    /// The reply once the plan is used up (200 with an empty body unless set).
    pub fn always(&self, reply: Reply) {
        *self.shared.default.lock().unwrap() = Some(reply);
    }

    pub fn received(&self) -> Vec<Received> {
        self.shared.received.lock().unwrap().clone()
    }

    pub fn count(&self) -> usize {
        self.shared.received.lock().unwrap().len()
    }
}

async fn receive(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> axum::response::Response {
    let target = uri
        .path_and_query()
        .map(|target| target.as_str().to_owned())
        .unwrap_or_default();
    shared.received.lock().unwrap().push(Received {
        method,
        target,
        headers,
        body,
    });
    let planned = shared.plan.lock().unwrap().pop_front();
    let reply = planned
        .or_else(|| shared.default.lock().unwrap().clone())
        .unwrap_or(Reply::Status(200, ""));
    match reply {
        Reply::Status(code, body) => (StatusCode::from_u16(code).unwrap(), body).into_response(),
        Reply::Hang => std::future::pending().await,
    }
}
