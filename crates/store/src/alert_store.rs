//! Alert triage and the overview's aggregates for both backends, written once as in
//! [`account_store`](crate::account_store): only the pool and the SQL text differ, and the
//! counting is the database's (`GROUP BY`), never a walk over every row in Rust.

/// Implements the triage and aggregate methods as inherent `*_in_db` methods of `$store`,
/// which its `Store` impl forwards to. The call site must have the backend's statements in
/// scope as `sql`.
macro_rules! alert_store {
    ($store:ty, reader: $reader:ident, writer: $writer:ident) => {
        impl $store {
            async fn triage_alert_in_db(
                &self,
                id: i64,
                triage: &$crate::AlertTriage,
            ) -> Result<Option<$crate::StoredAlert>, $crate::StoreError> {
                let row: Option<$crate::rows::AlertRow> = sqlx::query_as(sql::ALERT_TRIAGE)
                    .bind(id)
                    .bind(triage.status.as_str())
                    .bind(&triage.by)
                    .bind($crate::rows::micros(triage.at))
                    .bind(triage.note.as_deref())
                    .fetch_optional(&self.$writer)
                    .await?;
                row.map($crate::rows::AlertRow::into_alert).transpose()
            }

            async fn alert_breakdown_in_db(
                &self,
                since: Option<rampart_model::Timestamp>,
            ) -> Result<$crate::AlertBreakdown, $crate::StoreError> {
                use $crate::rows::{LabelCount, RankCount};
                let since = since.map($crate::rows::micros);
                let count = |count: i64| u64::try_from(count).unwrap_or(0);
                // One read transaction: the totals agree with each other.
                let mut tx = self.$reader.begin().await?;
                let severities: Vec<RankCount> = sqlx::query_as(sql::ALERTS_BY_SEVERITY)
                    .bind(since)
                    .fetch_all(&mut *tx)
                    .await?;
                let statuses: Vec<LabelCount> = sqlx::query_as(sql::ALERTS_BY_STATUS)
                    .bind(since)
                    .fetch_all(&mut *tx)
                    .await?;
                let tactics: Vec<LabelCount> = sqlx::query_as(sql::ALERTS_BY_TACTIC)
                    .bind(since)
                    .fetch_all(&mut *tx)
                    .await?;
                let techniques: Vec<LabelCount> = sqlx::query_as(sql::ALERTS_BY_TECHNIQUE)
                    .bind(since)
                    .fetch_all(&mut *tx)
                    .await?;
                let unmapped: i64 = sqlx::query_scalar(sql::ALERTS_UNMAPPED)
                    .bind(since)
                    .fetch_one(&mut *tx)
                    .await?;
                tx.commit().await?;
                let mut by_severity = Vec::new();
                for row in severities {
                    let severity = $crate::rows::severity_from_column(row.label)?;
                    by_severity.push((severity, count(row.count)));
                }
                let mut by_status = Vec::new();
                for row in statuses {
                    let status: $crate::AlertStatus =
                        $crate::rows::parse_column("alerts", "status", &row.label)?;
                    by_status.push((status, count(row.count)));
                }
                by_status.sort();
                Ok($crate::AlertBreakdown {
                    by_severity,
                    by_status,
                    by_tactic: tactics
                        .into_iter()
                        .map(|row| (row.label, count(row.count)))
                        .collect(),
                    by_technique: techniques
                        .into_iter()
                        .map(|row| (row.label, count(row.count)))
                        .collect(),
                    unmapped: count(unmapped),
                })
            }

            async fn indicators_per_day_in_db(
                &self,
                since: rampart_model::Timestamp,
                by: $crate::DailyGroup,
            ) -> Result<Vec<$crate::DailyCount>, $crate::StoreError> {
                let statement = match by {
                    $crate::DailyGroup::Source => sql::INDICATORS_PER_DAY_SOURCE,
                    $crate::DailyGroup::Kind => sql::INDICATORS_PER_DAY_KIND,
                };
                let rows: Vec<$crate::rows::DayRow> = sqlx::query_as(statement)
                    .bind($crate::rows::micros(since))
                    .fetch_all(&self.$reader)
                    .await?;
                rows.into_iter()
                    .map($crate::rows::DayRow::into_count)
                    .collect()
            }
        }
    };
}

pub(crate) use alert_store;
