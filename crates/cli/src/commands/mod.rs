//! One module per command group.

pub mod assets;
pub mod feeds;
pub mod intel;
pub mod serve;

/// Builds the HTTP client shared by pulls: rustls with ring, redirects limited, a user agent.
pub fn http_client() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .user_agent(concat!("rampart/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(std::time::Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::limited(5))
        .build()?)
}
