//! What every command needs: the configuration, the store, the suppression lists.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use rampart_intel::config::Config;
use rampart_intel::import::Suppress;
use rampart_store::Store;

pub struct Context {
    pub config: Config,
    /// Whether the configuration came from a file the user wrote (its sources are then
    /// authoritative) rather than the embedded defaults.
    pub config_from_file: bool,
    store_url: String,
    pub json: bool,
    /// The directory of the configuration file, against which `[respond] playbooks` is read.
    config_dir: Option<std::path::PathBuf>,
}

impl Context {
    pub fn load(
        config_path: Option<&Path>,
        store: Option<&str>,
        json: bool,
    ) -> anyhow::Result<Context> {
        let (config, config_from_file) = match config_path {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read configuration {}", path.display()))?;
                (Config::parse(&text, &path.display().to_string())?, true)
            }
            None => (Config::embedded(), false),
        };
        let store_url = store
            .map(str::to_owned)
            .unwrap_or_else(|| config.store_url());
        Ok(Context {
            config,
            config_from_file,
            store_url,
            json,
            config_dir: config_path.and_then(Path::parent).map(Path::to_path_buf),
        })
    }

    /// The store URL in use (with its password: never print it, see [`redact`]).
    pub fn store_url(&self) -> &str {
        &self.store_url
    }

    /// Opens the store as it is, without writing the configured sources into it (backups,
    /// restores, pruning).
    pub async fn open_store(&self) -> anyhow::Result<Arc<dyn Store>> {
        Ok(rampart_store::open(&self.store_url)
            .await
            .with_context(|| format!("cannot open store {}", redact(&self.store_url)))?
            .into())
    }

    /// Opens the store and writes the configured sources into it: a configuration file's
    /// sources replace what the store has; the embedded defaults only fill in missing ones, so
    /// that `feeds enable` sticks.
    pub async fn store(&self) -> anyhow::Result<Arc<dyn Store>> {
        if let Some(path) = self.store_url.strip_prefix("sqlite://")
            && let Some(parent) = Path::new(path).parent()
            && !parent.as_os_str().is_empty()
        {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        let store: Arc<dyn Store> = rampart_store::open(&self.store_url)
            .await
            .with_context(|| format!("cannot open store {}", redact(&self.store_url)))?
            .into();
        for source in &self.config.sources {
            if !self.config_from_file && store.source(&source.name).await?.is_some() {
                continue;
            }
            store
                .upsert_source(&source.info(), &source.to_settings())
                .await?;
        }
        Ok(store)
    }

    /// The configured warninglists, loaded once per process (a fraction of a second for
    /// MISP's full set). Problems with single lists are reported and the rest is used.
    pub fn warninglists(&self) -> anyhow::Result<Option<Arc<dyn Suppress>>> {
        let Some(dir) = &self.config.warninglists else {
            return Ok(None);
        };
        let (lists, report) = rampart_intel::warninglist::Warninglists::load_dir(dir)
            .with_context(|| format!("cannot load warninglists from {}", dir.display()))?;
        for problem in &report.problems {
            tracing::warn!(?problem, "warninglist entry skipped");
        }
        tracing::info!(
            lists = report.lists,
            entries = report.entries,
            "warninglists loaded"
        );
        Ok(Some(Arc::new(lists)))
    }

    /// The `[detect]` section, with defaults for what it leaves out.
    /// The `[respond]` section, its playbook directory resolved against the configuration
    /// file's directory.
    pub fn respond(&self) -> anyhow::Result<rampart_respond::config::RespondConfig> {
        let mut respond =
            rampart_respond::config::RespondConfig::from_table(self.config.respond.as_ref())?;
        if let (Some(dir), Some(base)) = (&respond.playbooks, &self.config_dir)
            && dir.is_relative()
        {
            respond.playbooks = Some(base.join(dir));
        }
        Ok(respond)
    }

    /// The `[cases]` section as the cases stage uses it (SLA, grouping, templates).
    pub fn cases(&self) -> anyhow::Result<rampart_cases::CaseSettings> {
        let config: rampart_cases::CasesConfig = match &self.config.cases {
            None => Default::default(),
            Some(table) => toml::Value::Table(table.clone())
                .try_into()
                .context("invalid [cases] section")?,
        };
        Ok(rampart_cases::CaseSettings::from_config(&config)?)
    }

    pub fn detect(&self) -> anyhow::Result<rampart_detect::config::DetectConfig> {
        match &self.config.detect {
            None => Ok(Default::default()),
            Some(table) => toml::Value::Table(table.clone())
                .try_into()
                .context("invalid [detect] section"),
        }
    }

    /// Where per-rule overrides and pack manifests are kept.
    pub fn rule_state_path(&self) -> std::path::PathBuf {
        self.config.data_dir.join("rules.json")
    }

    /// The suppression that applies now: the store's allowlist, then the warninglists.
    pub async fn suppression(
        &self,
        store: &dyn Store,
    ) -> anyhow::Result<Option<Arc<dyn Suppress>>> {
        Ok(rampart_intel::import::current_suppression(store, self.warninglists()?).await?)
    }
}

/// A store URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}
