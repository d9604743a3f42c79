//! The overview: new indicators per day by source and by kind, alerts by severity, status and
//! ATT&CK tactic, and the health of every feed. Every number is counted by the store.

use askama::Template;
use axum::extract::State;
use axum::http::Uri;
use axum::response::Response;
use jiff::{Timestamp, ToSpan};
use rampart_model::Severity;
use rampart_store::{Counts, DailyGroup};

use super::charts::{BarChart, StackedChart};
use super::{Chrome, Form, PageError, html, when_or_never};
use crate::auth::Principal;
use crate::state::{AppState, MatcherStatus};

/// The periods offered, in days.
const PERIODS: [i64; 4] = [7, 30, 90, 365];

/// One feed's line in the health table.
pub struct FeedHealth {
    pub name: String,
    pub format: String,
    pub enabled: bool,
    pub last_success: String,
    pub last_attempt: String,
    pub failures: u32,
    pub last_error: Option<String>,
    pub active: u64,
    /// `ok`, `failing` or `never`, for the status badge.
    pub state: &'static str,
}

#[derive(Template)]
#[template(path = "overview.html")]
pub struct OverviewPage {
    pub chrome: Option<Chrome>,
    pub days: i64,
    pub periods: Vec<i64>,
    pub counts: Counts,
    pub by_source: String,
    pub by_kind: String,
    pub by_severity: String,
    pub by_status: String,
    pub by_tactic: String,
    pub by_technique: String,
    pub unmapped: u64,
    pub open_alerts: u64,
    pub feeds: Vec<FeedHealth>,
    /// The matcher's entries and snapshot age, or why there are none.
    pub matcher: String,
}

/// The overview's line on the matcher: its entries and how long ago its snapshot last held
/// every committed change.
pub fn matcher_line(status: Option<MatcherStatus>, now: Timestamp) -> String {
    let Some(status) = status else {
        return "matcher: not running".to_owned();
    };
    let age = match status.synced_at {
        None => "not yet synced with the store".to_owned(),
        Some(synced) => {
            let seconds = now.duration_since(synced).as_secs().max(0);
            let age = match seconds {
                s if s < 120 => format!("{s} s"),
                s if s < 2 * 3600 => format!("{} min", s / 60),
                s if s < 48 * 3600 => format!("{} h", s / 3600),
                s => format!("{} d", s / 86_400),
            };
            format!("snapshot age {age}")
        }
    };
    format!(
        "matcher: {} entries ({} base, {} delta), {age}",
        status.base_entries + status.delta_entries,
        status.base_entries,
        status.delta_entries
    )
}

/// The colour of each severity in charts.
pub fn severity_colour(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "#8e0152",
        Severity::High => "#d6604d",
        Severity::Medium => "#f4a582",
        Severity::Low => "#92c5de",
        Severity::Informational => "#bababa",
    }
}

/// Renders a chart template; charts are escaped by their own template.
fn svg(chart: &impl Template) -> Result<String, PageError> {
    chart
        .render()
        .map_err(|err| PageError(crate::ApiError::internal(err)))
}

/// `GET /`: the overview over the last `days` days (7, 30, 90 or 365; 30 by default).
pub async fn page(
    State(state): State<AppState>,
    principal: Principal,
    uri: Uri,
) -> Result<Response, PageError> {
    let days = Form::query(&uri)
        .get("days")
        .and_then(|days| days.parse::<i64>().ok())
        .filter(|days| PERIODS.contains(days))
        .unwrap_or(30);
    let now = Timestamp::now();
    let today = now.to_zoned_datetime(jiff::tz::TimeZone::UTC).date();
    let first = today
        .checked_sub((days - 1).days())
        .map_err(crate::ApiError::internal)?;
    let since = first
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .map_err(crate::ApiError::internal)?
        .timestamp();
    let calendar: Vec<jiff::civil::Date> = first.series(1.day()).take(days as usize).collect();

    let store = state.store.as_ref();
    let by_source = store.indicators_per_day(since, DailyGroup::Source).await?;
    let by_kind = store.indicators_per_day(since, DailyGroup::Kind).await?;
    let alerts = store.alert_breakdown(Some(since)).await?;
    let counts = store.counts().await?;

    let severity_rows = alerts
        .by_severity
        .iter()
        .map(|(severity, count)| {
            (
                severity.to_string(),
                *count,
                Some(severity_colour(*severity)),
            )
        })
        .collect();
    let status_rows = alerts
        .by_status
        .iter()
        .map(|(status, count)| (status.as_str().replace('_', " "), *count, None))
        .collect();
    let tactic_rows = alerts
        .by_tactic
        .iter()
        .map(|(tactic, count)| (tactic.clone(), *count, Some("#009e73")))
        .collect();
    let technique_rows = alerts
        .by_technique
        .iter()
        .take(10)
        .map(|(technique, count)| (technique.clone(), *count, Some("#56b4e9")))
        .collect();
    let open_alerts = alerts
        .by_status
        .iter()
        .filter(|(status, _)| {
            matches!(
                status,
                rampart_store::AlertStatus::Open | rampart_store::AlertStatus::Acknowledged
            )
        })
        .map(|(_, count)| count)
        .sum();

    let feeds = crate::api::sources::statuses(&state)
        .await?
        .into_iter()
        .map(|status| {
            let source = status.source;
            let state = match (source.last_success, source.consecutive_failures) {
                (_, failures) if failures > 0 => "failing",
                (None, _) => "never",
                _ => "ok",
            };
            FeedHealth {
                name: source.info.name,
                format: source.info.format,
                enabled: status.enabled,
                last_success: when_or_never(source.last_success, now),
                last_attempt: when_or_never(source.last_attempt, now),
                failures: source.consecutive_failures,
                last_error: source.last_error,
                active: source.active_statements,
                state,
            }
        })
        .collect();

    Ok(html(&OverviewPage {
        chrome: Some(Chrome::new(&principal, "overview")),
        days,
        periods: PERIODS.to_vec(),
        counts,
        by_source: svg(&StackedChart::new(
            "New indicators per day, by source",
            &calendar,
            &by_source,
        ))?,
        by_kind: svg(&StackedChart::new(
            "New indicators per day, by kind",
            &calendar,
            &by_kind,
        ))?,
        by_severity: svg(&BarChart::new("Alerts by severity", severity_rows))?,
        by_status: svg(&BarChart::new("Alerts by status", status_rows))?,
        by_tactic: svg(&BarChart::new("Alerts by ATT&CK tactic", tactic_rows))?,
        by_technique: svg(&BarChart::new("Alerts by ATT&CK technique", technique_rows))?,
        unmapped: alerts.unmapped,
        open_alerts,
        feeds,
        matcher: matcher_line(state.matcher.as_ref().map(|probe| probe()), now),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_matcher_line_says_entries_and_age_or_that_none_runs() {
        let now = Timestamp::from_second(10_000).unwrap();
        assert_eq!(matcher_line(None, now), "matcher: not running");
        let status = MatcherStatus {
            base_entries: 40,
            delta_entries: 2,
            synced_at: Some(Timestamp::from_second(10_000 - 42).unwrap()),
        };
        assert_eq!(
            matcher_line(Some(status.clone()), now),
            "matcher: 42 entries (40 base, 2 delta), snapshot age 42 s"
        );
        let stale = MatcherStatus {
            synced_at: Some(Timestamp::from_second(10_000 - 3 * 3600).unwrap()),
            ..status
        };
        assert!(matcher_line(Some(stale), now).ends_with("snapshot age 3 h"));
        let unsynced = matcher_line(Some(MatcherStatus::default()), now);
        assert!(
            unsynced.ends_with("not yet synced with the store"),
            "{unsynced}"
        );
    }
}
