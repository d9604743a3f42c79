//! One module per command group.

pub mod accountable;
pub mod admin;
pub mod alerts;
pub mod assets;
pub mod audit;
pub mod config;
pub mod detection;
pub mod feeds;
pub mod hunt;
pub mod intel;
pub mod maintenance;
pub mod playbook;
pub mod retention;
pub mod rules;
pub mod serve;

/// Builds the HTTP client shared by pulls: rustls with ring, redirects limited, a user agent.
pub fn http_client() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .user_agent(concat!("rampart/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(std::time::Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::limited(5))
        .build()?)
}

/// How far a new source is trusted, as given on the command line; what is not given comes from
/// the feed preset, if the format is one, and then from neutral defaults (F, 50, TLP:CLEAR).
#[derive(Debug, clap::Args)]
pub struct SourceDefaults {
    /// Admiralty reliability A–F (default: the preset's, else F).
    #[arg(long)]
    pub reliability: Option<rampart_model::Reliability>,
    /// Confidence 0–100 for statements without one (default: the preset's, else 50).
    #[arg(long)]
    pub confidence: Option<u8>,
    /// TLP for statements without one (default: the preset's, else clear).
    #[arg(long)]
    pub tlp: Option<rampart_model::Tlp>,
}

impl SourceDefaults {
    pub fn resolve(
        &self,
        preset: Option<&rampart_intel::formats::presets::PresetDefaults>,
    ) -> (rampart_model::Reliability, u8, rampart_model::Tlp) {
        (
            self.reliability
                .or(preset.map(|p| p.reliability))
                .unwrap_or(rampart_model::Reliability::F),
            self.confidence
                .or(preset.map(|p| p.confidence))
                .unwrap_or(50),
            self.tlp
                .or(preset.map(|p| p.tlp))
                .unwrap_or(rampart_model::Tlp::Clear),
        )
    }
}
