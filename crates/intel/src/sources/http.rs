//! Plain HTTP(S) downloads (and local files): one document per pull, with ETag and
//! If-Modified-Since so unchanged feeds cost one request.

use std::sync::Arc;

use super::{PullContext, PullError, PullStatus, Transport, read_body};
use crate::formats::Format;

/// Largest body accepted from a feed.
pub const MAX_BODY: u64 = 512 * 1024 * 1024;

/// One URL (`http://`, `https://`) or local path (`file://` or a plain path).
pub struct HttpTransport {
    pub url: String,
    pub headers: Vec<(String, String)>,
    /// Limit for the whole request, body included.
    pub timeout: std::time::Duration,
}

#[async_trait::async_trait]
impl Transport for HttpTransport {
    async fn pull(
        &self,
        format: Arc<dyn Format>,
        ctx: &mut PullContext<'_>,
    ) -> Result<PullStatus, PullError> {
        if !(self.url.starts_with("http://") || self.url.starts_with("https://")) {
            let path = self.url.strip_prefix("file://").unwrap_or(&self.url);
            let file = std::fs::File::open(path)
                .map_err(|err| PullError::Other(format!("{path}: cannot open: {err}")))?;
            let reader = Box::new(std::io::BufReader::with_capacity(1 << 20, file));
            ctx.session
                .parse_document(format.clone(), reader, path)
                .await?;
            return Ok(PullStatus::Fetched {
                documents: 1,
                full_list: format.full_list(),
            });
        }
        let mut request = ctx.http.get(&self.url).timeout(self.timeout);
        for (name, value) in &self.headers {
            request = request.header(name, value);
        }
        if let Some(etag) = ctx
            .store
            .cursor(ctx.source, "etag")
            .await
            .map_err(crate::import::ImportError::from)?
        {
            request = request.header(reqwest::header::IF_NONE_MATCH, etag);
        }
        if let Some(modified) = ctx
            .store
            .cursor(ctx.source, "last-modified")
            .await
            .map_err(crate::import::ImportError::from)?
        {
            request = request.header(reqwest::header::IF_MODIFIED_SINCE, modified);
        }
        let response = request.send().await.map_err(|err| PullError::Http {
            url: self.url.clone(),
            reason: err.to_string(),
        })?;
        let status = response.status();
        if status == reqwest::StatusCode::NOT_MODIFIED {
            return Ok(PullStatus::NotModified);
        }
        if !status.is_success() {
            return Err(PullError::Http {
                url: self.url.clone(),
                reason: format!("server answered {status}"),
            });
        }
        let header = |name: reqwest::header::HeaderName| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let etag = header(reqwest::header::ETAG);
        let modified = header(reqwest::header::LAST_MODIFIED);
        let body = read_body(response, &self.url, MAX_BODY).await?;
        ctx.session
            .parse_document(format.clone(), body.into_reader(), &self.url)
            .await?;
        if let Some(etag) = etag {
            ctx.cursors.push(("etag".into(), etag));
        }
        if let Some(modified) = modified {
            ctx.cursors.push(("last-modified".into(), modified));
        }
        Ok(PullStatus::Fetched {
            documents: 1,
            full_list: format.full_list(),
        })
    }
}
