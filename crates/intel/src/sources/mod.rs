//! Transports: where a source's documents come from (a file, an HTTP URL, a TAXII collection,
//! a MISP server or feed). A transport fetches documents and parses each into the pull's
//! import session; the caller commits the session, with the cursors the transport set, so a
//! failed pull leaves the store and its cursors as they were.

pub mod http;
pub mod misp_feed;
pub mod misp_server;
pub mod taxii;

use std::sync::Arc;

use rampart_store::Store;

use crate::formats::Format;
use crate::import::{ImportError, ImportSession};

/// What a pull needs: the store (for cursors), the import session to parse into, an HTTP client.
pub struct PullContext<'a> {
    pub store: &'a dyn Store,
    /// The source's name, for cursors and messages.
    pub source: &'a str,
    pub session: &'a mut ImportSession,
    pub http: &'a reqwest::Client,
    /// Cursors to move when the import commits (key, value).
    pub cursors: Vec<(String, String)>,
}

/// How a pull went, when it did not fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PullStatus {
    /// Documents were parsed into the session; `full_list` says whether they were the source's
    /// whole list (so values missing from it are withdrawn).
    Fetched { documents: u64, full_list: bool },
    /// Nothing changed since the last pull (HTTP 304, no new TAXII objects or MISP events).
    NotModified,
}

/// A failed pull. The session must be aborted.
#[derive(Debug, thiserror::Error)]
pub enum PullError {
    #[error("{url}: {reason}")]
    Http { url: String, reason: String },
    #[error(transparent)]
    Import(#[from] ImportError),
    #[error("{0}")]
    Other(String),
}

/// A place documents come from.
#[async_trait::async_trait]
pub trait Transport: Send + Sync {
    /// Fetches what is new and parses it with `format` into `ctx.session`.
    async fn pull(
        &self,
        format: Arc<dyn Format>,
        ctx: &mut PullContext<'_>,
    ) -> Result<PullStatus, PullError>;
}

/// Reads an HTTP response body with a size limit, as bytes.
pub async fn read_body(
    response: reqwest::Response,
    url: &str,
    limit: u64,
) -> Result<bytes_like::Bytes, PullError> {
    if let Some(length) = response.content_length()
        && length > limit
    {
        return Err(PullError::Http {
            url: url.to_owned(),
            reason: format!("body of {length} bytes exceeds the limit of {limit}"),
        });
    }
    let mut body = Vec::new();
    let mut response = response;
    while let Some(chunk) = response.chunk().await.map_err(|err| PullError::Http {
        url: url.to_owned(),
        reason: format!("reading body: {err}"),
    })? {
        body.extend_from_slice(&chunk);
        if body.len() as u64 > limit {
            return Err(PullError::Http {
                url: url.to_owned(),
                reason: format!("body exceeds the limit of {limit} bytes"),
            });
        }
    }
    Ok(bytes_like::Bytes(body))
}

/// A downloaded body.
pub mod bytes_like {
    /// Owned bytes that can be handed to a parser thread.
    #[derive(Debug, Clone, Default)]
    pub struct Bytes(pub Vec<u8>);

    impl Bytes {
        /// A reader over the body, transparently gunzipped when it starts with the gzip magic.
        pub fn into_reader(self) -> Box<dyn std::io::BufRead + Send> {
            if self.0.starts_with(&[0x1f, 0x8b]) {
                Box::new(std::io::BufReader::new(flate2::read::MultiGzDecoder::new(
                    std::io::Cursor::new(self.0),
                )))
            } else {
                Box::new(std::io::Cursor::new(self.0))
            }
        }
    }
}
