//! Roles and the actions they allow: the whole permission model in one table.

use std::fmt;

use serde::{Deserialize, Serialize};

/// What an account (or an API token) is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything, including accounts, the audit log and the system itself.
    Admin,
    /// The security team's daily work: intel, feeds, alerts, assets, rules — not accounts.
    Analyst,
    /// Looks at intel, alerts, assets and rules; changes nothing.
    ReadOnly,
    /// Sensors and feeds: may only push events and intel in, and read nothing back.
    Ingest,
}

/// Something a request does, checked against the caller's role by [`Role::allows`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Read indicators, their scores and context, and export them.
    ReadIntel,
    /// Add indicators by hand, suppress and allowlist values.
    WriteIntel,
    /// Add, change, remove and pull feeds and sources; regrade their reliability.
    ManageSources,
    /// Read alerts.
    ReadAlerts,
    /// Acknowledge alerts and mark them false positives.
    TriageAlerts,
    /// Read the organisation's assets.
    ReadAssets,
    /// Import and change assets.
    ManageAssets,
    /// Read detection rules and their settings.
    ReadRules,
    /// Update rule packs, enable and disable rules, override levels.
    ManageRules,
    /// Push events for detection (HTTP ingest).
    IngestEvents,
    /// Push intel (e.g. to a writable TAXII collection).
    IngestIntel,
    /// Create, list and revoke one's own API tokens.
    ManageOwnTokens,
    /// Create and disable accounts, and manage anyone's tokens.
    ManageUsers,
    /// Read and export the audit log.
    ReadAudit,
    /// Configuration, backups, restores, retention.
    ManageSystem,
    /// Scrape the Prometheus metrics (`/metrics`): counts and queue depths, no intel values.
    ReadMetrics,
    /// Read incident cases, their tasks, observables, alerts and timeline; export them.
    ReadCases,
    /// Open, change, assign, merge and close cases; link alerts; import alerts from other tools.
    ManageCases,
    /// Read playbooks, their runs and approvals, and the block lists' entries.
    ReadResponse,
    /// Edit playbooks, decide approvals, roll runs back, block and unblock values by hand.
    ManageResponse,
    /// Fetch the rendered block lists (firewalls, resolvers, mail servers and sensors).
    FetchBlocklists,
}

impl Action {
    /// Every action, in declaration order.
    pub const ALL: [Action; 21] = [
        Action::ReadIntel,
        Action::WriteIntel,
        Action::ManageSources,
        Action::ReadAlerts,
        Action::TriageAlerts,
        Action::ReadAssets,
        Action::ManageAssets,
        Action::ReadRules,
        Action::ManageRules,
        Action::IngestEvents,
        Action::IngestIntel,
        Action::ManageOwnTokens,
        Action::ManageUsers,
        Action::ReadAudit,
        Action::ManageSystem,
        Action::ReadMetrics,
        Action::ReadCases,
        Action::ManageCases,
        Action::ReadResponse,
        Action::ManageResponse,
        Action::FetchBlocklists,
    ];

    /// The roles allowed to do this. A new action must be placed here: the match has no
    /// catch-all, so forgetting it does not compile.
    pub const fn roles(self) -> &'static [Role] {
        use Role::{Admin, Analyst, Ingest, ReadOnly};
        match self {
            Action::ReadIntel
            | Action::ReadAlerts
            | Action::ReadAssets
            | Action::ReadRules
            | Action::ReadMetrics
            | Action::ReadCases
            | Action::ReadResponse => &[Admin, Analyst, ReadOnly],
            Action::WriteIntel
            | Action::ManageSources
            | Action::TriageAlerts
            | Action::ManageAssets
            | Action::ManageRules
            | Action::ManageCases
            | Action::ManageResponse => &[Admin, Analyst],
            // Enforcement points fetch with a machine's token, as sensors push with one.
            Action::FetchBlocklists => &[Admin, Analyst, ReadOnly, Ingest],
            Action::IngestEvents | Action::IngestIntel => &[Admin, Analyst, Ingest],
            // A sensor's token is made for it by a person; the sensor cannot mint more.
            Action::ManageOwnTokens => &[Admin, Analyst, ReadOnly],
            Action::ManageUsers | Action::ReadAudit | Action::ManageSystem => &[Admin],
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Action::ReadIntel => "read_intel",
            Action::WriteIntel => "write_intel",
            Action::ManageSources => "manage_sources",
            Action::ReadAlerts => "read_alerts",
            Action::TriageAlerts => "triage_alerts",
            Action::ReadAssets => "read_assets",
            Action::ManageAssets => "manage_assets",
            Action::ReadRules => "read_rules",
            Action::ManageRules => "manage_rules",
            Action::IngestEvents => "ingest_events",
            Action::IngestIntel => "ingest_intel",
            Action::ManageOwnTokens => "manage_own_tokens",
            Action::ManageUsers => "manage_users",
            Action::ReadAudit => "read_audit",
            Action::ManageSystem => "manage_system",
            Action::ReadMetrics => "read_metrics",
            Action::ReadCases => "read_cases",
            Action::ManageCases => "manage_cases",
            Action::ReadResponse => "read_response",
            Action::ManageResponse => "manage_response",
            Action::FetchBlocklists => "fetch_blocklists",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

impl Role {
    /// Every role, from the most to the least powerful person, then the sensor role.
    pub const ALL: [Role; 4] = [Role::Admin, Role::Analyst, Role::ReadOnly, Role::Ingest];

    /// Whether this role may do `action`.
    pub fn allows(self, action: Action) -> bool {
        action.roles().contains(&self)
    }

    /// Whether everything this role allows, `other` allows too: a token may carry a role only
    /// within its owner's. Roles are not a ladder — `ingest` is within `analyst` but not within
    /// `read_only` — so this compares the actions themselves.
    pub fn within(self, other: Role) -> bool {
        Action::ALL
            .iter()
            .all(|&action| !self.allows(action) || other.allows(action))
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Analyst => "analyst",
            Role::ReadOnly => "read_only",
            Role::Ingest => "ingest",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// A role name that is none of `admin`, `analyst`, `read_only` (or `read-only`), `ingest`.
#[derive(Debug, Clone, thiserror::Error)]
#[error("unknown role {0:?}: expected admin, analyst, read_only or ingest")]
pub struct UnknownRole(pub String);

impl std::str::FromStr for Role {
    type Err = UnknownRole;

    fn from_str(text: &str) -> Result<Role, UnknownRole> {
        match text.to_ascii_lowercase().as_str() {
            "admin" => Ok(Role::Admin),
            "analyst" => Ok(Role::Analyst),
            "read_only" | "read-only" | "readonly" => Ok(Role::ReadOnly),
            "ingest" => Ok(Role::Ingest),
            _ => Err(UnknownRole(text.chars().take(40).collect())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The whole matrix, written out: any change to the permission model shows up here.
    /// Columns: admin, analyst, read_only, ingest.
    const MATRIX: [(Action, [bool; 4]); 21] = [
        (Action::ReadIntel, [true, true, true, false]),
        (Action::WriteIntel, [true, true, false, false]),
        (Action::ManageSources, [true, true, false, false]),
        (Action::ReadAlerts, [true, true, true, false]),
        (Action::TriageAlerts, [true, true, false, false]),
        (Action::ReadAssets, [true, true, true, false]),
        (Action::ManageAssets, [true, true, false, false]),
        (Action::ReadRules, [true, true, true, false]),
        (Action::ManageRules, [true, true, false, false]),
        (Action::IngestEvents, [true, true, false, true]),
        (Action::IngestIntel, [true, true, false, true]),
        (Action::ManageOwnTokens, [true, true, true, false]),
        (Action::ManageUsers, [true, false, false, false]),
        (Action::ReadAudit, [true, false, false, false]),
        (Action::ManageSystem, [true, false, false, false]),
        (Action::ReadMetrics, [true, true, true, false]),
        (Action::ReadCases, [true, true, true, false]),
        (Action::ManageCases, [true, true, false, false]),
        (Action::ReadResponse, [true, true, true, false]),
        (Action::ManageResponse, [true, true, false, false]),
        (Action::FetchBlocklists, [true, true, true, true]),
    ];

    #[test]
    fn the_permission_matrix() {
        let listed: Vec<Action> = MATRIX.iter().map(|(action, _)| *action).collect();
        assert_eq!(listed, Action::ALL, "the table must list every action once");
        for (action, expected) in MATRIX {
            for (role, allowed) in Role::ALL.into_iter().zip(expected) {
                assert_eq!(role.allows(action), allowed, "{role} × {action}");
            }
        }
    }

    #[test]
    fn all_lists_every_action_once() {
        let mut names: Vec<&str> = Action::ALL.iter().map(|action| action.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Action::ALL.len());
    }

    #[test]
    fn admin_allows_everything() {
        assert!(Action::ALL.iter().all(|&action| Role::Admin.allows(action)));
    }

    #[test]
    fn within_follows_the_actions() {
        use Role::{Admin, Analyst, Ingest, ReadOnly};
        // (token role, owner role, allowed)
        let cases = [
            (Admin, Admin, true),
            (Analyst, Admin, true),
            (ReadOnly, Admin, true),
            (Ingest, Admin, true),
            (Admin, Analyst, false),
            (Analyst, Analyst, true),
            (ReadOnly, Analyst, true),
            (Ingest, Analyst, true),
            (Admin, ReadOnly, false),
            (Analyst, ReadOnly, false),
            (ReadOnly, ReadOnly, true),
            (Ingest, ReadOnly, false),
            (Admin, Ingest, false),
            (Analyst, Ingest, false),
            (ReadOnly, Ingest, false),
            (Ingest, Ingest, true),
        ];
        for (token, owner, allowed) in cases {
            assert_eq!(token.within(owner), allowed, "{token} within {owner}");
        }
    }

    #[test]
    fn role_names_round_trip() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>().unwrap(), role);
            let json = serde_json::to_string(&role).unwrap();
            assert_eq!(json, format!("\"{}\"", role.as_str()));
        }
        assert_eq!("read-only".parse::<Role>().unwrap(), Role::ReadOnly);
        assert_eq!("ADMIN".parse::<Role>().unwrap(), Role::Admin);
        assert!("root".parse::<Role>().is_err());
    }
}
