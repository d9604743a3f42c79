//! The [`CaseStore`](crate::CaseStore) of both backends, written once as in
//! [`account_store`](crate::account_store): the two differ only in their connection type,
//! which pools read and write, and their SQL text (each backend's `queries` module, imported as
//! `sql` where the macros are used).
//!
//! Writes read the rows they change inside their transaction (PostgreSQL locks them with
//! `FOR UPDATE`; SQLite's single writer needs no lock), change them with the shared rules of
//! [`crate::cases`], and write them back with their timeline entries.

/// The helpers the `CaseStore` methods share: reads inside a transaction, whole-row saves and
/// timeline writes. Expanded once beside [`case_store`].
macro_rules! case_helpers {
    ($connection:ty) => {
        use rampart_model::{
            Case, CaseAlert, CaseStatus, Observable, StatusChange, Task, TimelineEntry,
            TimelineKind, Timestamp,
        };
        use serde_json::{Value, json};

        use $crate::cases::{
            apply_case_update, apply_task_update, check_title, clean_tags, clean_techniques,
            detail_object,
        };
        use $crate::common::page_limit;
        use $crate::rows::cases::{
            AlertPlaceRow, CaseAlertRow, CaseRow, CaseValues, LinkedAlertRow, ObservableRow,
            TaskRow, TimelineRow, now_micros,
        };
        use $crate::rows::{AlertRow, LabelCount, RankCount, json_list, micros, to_json};
        use $crate::{
            AlertLinks, CaseCounts, CaseQuery, CaseUpdate, LinkedAlert, MergeOutcome, MovedAlert,
            NewCase, NewObservable, NewTask, NewTimelineEntry, StatusUpdate, StoreError,
            StoredAlert, TaskUpdate,
        };

        /// A case read with `statement` (`CASE_GET` or `CASE_GET_FOR_UPDATE`).
        async fn read_case(
            connection: &mut $connection,
            statement: &'static str,
            id: i64,
        ) -> Result<Option<Case>, StoreError> {
            let row: Option<CaseRow> = sqlx::query_as(statement)
                .bind(id)
                .fetch_optional(connection)
                .await?;
            row.map(CaseRow::into_case).transpose()
        }

        /// A case to write to, locked until the transaction ends.
        async fn case_to_change(connection: &mut $connection, id: i64) -> Result<Case, StoreError> {
            read_case(connection, sql::CASE_GET_FOR_UPDATE, id)
                .await?
                .ok_or(StoreError::UnknownCase(id))
        }

        async fn save_case(connection: &mut $connection, case: &Case) -> Result<(), StoreError> {
            let values = CaseValues::new(case);
            sqlx::query(sql::CASE_SAVE)
                .bind(case.id)
                .bind(values.title)
                .bind(values.description)
                .bind(values.severity)
                .bind(values.tlp)
                .bind(values.pap)
                .bind(values.status)
                .bind(values.duplicate_of)
                .bind(values.assignee)
                .bind(values.tags)
                .bind(values.techniques)
                .bind(values.campaign)
                .bind(values.updated)
                .bind(values.closed)
                .bind(values.due)
                .bind(values.resolution)
                .execute(connection)
                .await?;
            Ok(())
        }

        /// Moves a case's `updated` time forward to `at`.
        async fn touch_case(
            connection: &mut $connection,
            id: i64,
            at: i64,
        ) -> Result<(), StoreError> {
            sqlx::query(sql::CASE_TOUCH)
                .bind(id)
                .bind(at)
                .execute(connection)
                .await?;
            Ok(())
        }

        /// Appends one timeline entry; returns its id.
        async fn write_timeline(
            connection: &mut $connection,
            case_id: i64,
            at: i64,
            actor: &str,
            kind: TimelineKind,
            message: &str,
            detail: &Value,
        ) -> Result<i64, StoreError> {
            Ok(sqlx::query_scalar(sql::TIMELINE_INSERT)
                .bind(case_id)
                .bind(at)
                .bind(actor)
                .bind(kind.as_str())
                .bind(message)
                .bind(to_json(&detail_object(detail)))
                .fetch_one(connection)
                .await?)
        }

        async fn next_task_position(
            connection: &mut $connection,
            case_id: i64,
        ) -> Result<i64, StoreError> {
            Ok(sqlx::query_scalar(sql::TASK_NEXT_POSITION)
                .bind(case_id)
                .fetch_one(connection)
                .await?)
        }

        async fn insert_task(
            connection: &mut $connection,
            case_id: i64,
            task: &NewTask,
            position: i64,
            now: i64,
        ) -> Result<Task, StoreError> {
            let row: TaskRow = sqlx::query_as(sql::TASK_INSERT)
                .bind(case_id)
                .bind(&task.title)
                .bind(&task.description)
                .bind(task.assignee.as_deref())
                .bind(task.due.map(micros))
                .bind(position)
                .bind(now)
                .fetch_one(connection)
                .await?;
            row.into_task()
        }

        /// Inserts an observable, or unites it with the case's observable of the same value.
        /// Returns the observable as stored and whether it is new.
        async fn merge_observable(
            connection: &mut $connection,
            case_id: i64,
            observable: &NewObservable,
            indicator_id: Option<i64>,
            created: i64,
        ) -> Result<(Observable, bool), StoreError> {
            let kind = observable.indicator.kind().as_str();
            let value = observable.indicator.value();
            let tags = clean_tags(&observable.tags);
            let inserted: Option<i64> = sqlx::query_scalar(sql::OBSERVABLE_INSERT)
                .bind(case_id)
                .bind(kind)
                .bind(value)
                .bind(observable.ioc)
                .bind(observable.sighted)
                .bind(observable.tlp.short())
                .bind(json_list(&tags))
                .bind(observable.message.as_deref())
                .bind(indicator_id)
                .bind(created)
                .fetch_optional(&mut *connection)
                .await?;
            let row: ObservableRow = sqlx::query_as(sql::OBSERVABLE_GET_BY_VALUE)
                .bind(case_id)
                .bind(kind)
                .bind(value)
                .fetch_one(&mut *connection)
                .await?;
            let stored = row.into_observable()?;
            if inserted.is_some() {
                return Ok((stored, true));
            }
            let mut united = stored.clone();
            united.ioc |= observable.ioc;
            united.sighted |= observable.sighted;
            united.tlp = united.tlp.max(observable.tlp);
            united.tags = clean_tags(&[united.tags.as_slice(), tags.as_slice()].concat());
            if united.message.is_none() {
                united.message.clone_from(&observable.message);
            }
            united.indicator_id = united.indicator_id.or(indicator_id);
            if united != stored {
                sqlx::query(sql::OBSERVABLE_SAVE)
                    .bind(united.id)
                    .bind(united.ioc)
                    .bind(united.sighted)
                    .bind(united.tlp.short())
                    .bind(json_list(&united.tags))
                    .bind(united.message.as_deref())
                    .bind(united.indicator_id)
                    .execute(&mut *connection)
                    .await?;
            }
            Ok((united, false))
        }

        async fn observables_of(
            connection: &mut $connection,
            case_id: i64,
        ) -> Result<Vec<Observable>, StoreError> {
            let rows: Vec<ObservableRow> = sqlx::query_as(sql::OBSERVABLE_LIST)
                .bind(case_id)
                .fetch_all(connection)
                .await?;
            rows.into_iter()
                .map(ObservableRow::into_observable)
                .collect()
        }

        /// The store's indicator id of a value, if intel knows it.
        async fn indicator_id_of(
            connection: &mut $connection,
            indicator: &rampart_model::Indicator,
        ) -> Result<Option<i64>, StoreError> {
            Ok(sqlx::query_scalar(sql::INDICATOR_ID_OF)
                .bind(indicator.kind().as_str())
                .bind(indicator.value())
                .fetch_optional(connection)
                .await?)
        }

        /// How a list of alert ids is passed to SQL: a JSON array.
        fn id_list(ids: &[i64]) -> String {
            to_json(ids)
        }

        /// Sorted ids without repeats.
        fn distinct(ids: &[i64]) -> Vec<i64> {
            let mut ids = ids.to_vec();
            ids.sort_unstable();
            ids.dedup();
            ids
        }

        /// A timeline message naming a number of alerts.
        fn alerts_phrase(count: usize) -> String {
            if count == 1 {
                "1 alert".to_owned()
            } else {
                format!("{count} alerts")
            }
        }
    };
}

/// Implements `CaseStore` for `$store`, whose `$reader` pool serves reads and `begin_write()`
/// write transactions. Expects [`case_helpers`] and the [`case_writes`] macro's methods
/// expanded beside it, and the backend's statements in scope as `sql`.
macro_rules! case_store {
    ($store:ty, reader: $reader:ident) => {
        #[async_trait::async_trait]
        impl $crate::CaseStore for $store {
            async fn create_case(&self, case: &NewCase) -> Result<Case, StoreError> {
                self.create_case_in_db(case).await
            }

            async fn case(&self, id: i64) -> Result<Option<Case>, StoreError> {
                let mut connection = self.$reader.acquire().await?;
                read_case(&mut connection, sql::CASE_GET, id).await
            }

            async fn cases(&self, query: &CaseQuery) -> Result<Vec<Case>, StoreError> {
                let (statement, after) = if query.newest_first {
                    (sql::CASE_LIST_NEWEST, query.after_id.unwrap_or(i64::MAX))
                } else {
                    (sql::CASE_LIST, query.after_id.unwrap_or(i64::MIN))
                };
                let statuses = if query.statuses.is_empty() {
                    String::new()
                } else {
                    let names: Vec<&str> = query.statuses.iter().map(|s| s.as_str()).collect();
                    format!(",{},", names.join(","))
                };
                let rows: Vec<CaseRow> = sqlx::query_as(statement)
                    .bind(statuses)
                    .bind(query.open_only)
                    .bind(query.assignee.as_deref())
                    .bind(query.min_severity.map_or(0, |severity| severity as i64))
                    .bind(query.tag.as_deref())
                    .bind(query.campaign.as_deref())
                    .bind(query.contains.as_deref().map(str::to_ascii_lowercase))
                    .bind(after)
                    .bind(page_limit(query.limit))
                    .fetch_all(&self.$reader)
                    .await?;
                rows.into_iter().map(CaseRow::into_case).collect()
            }

            async fn update_case(
                &self,
                id: i64,
                update: &CaseUpdate,
                actor: &str,
            ) -> Result<Case, StoreError> {
                self.update_case_in_db(id, update, actor).await
            }

            async fn set_case_status(
                &self,
                id: i64,
                update: &StatusUpdate,
                actor: &str,
            ) -> Result<Case, StoreError> {
                self.set_case_status_in_db(id, update, actor).await
            }

            async fn open_case_for_campaign(
                &self,
                campaign: &str,
            ) -> Result<Option<Case>, StoreError> {
                let row: Option<CaseRow> = sqlx::query_as(sql::CASE_OPEN_FOR_CAMPAIGN)
                    .bind(campaign)
                    .fetch_optional(&self.$reader)
                    .await?;
                row.map(CaseRow::into_case).transpose()
            }

            async fn merge_cases(
                &self,
                into: i64,
                from: i64,
                actor: &str,
            ) -> Result<MergeOutcome, StoreError> {
                self.merge_cases_in_db(into, from, actor).await
            }

            async fn case_counts(&self, now: Timestamp) -> Result<CaseCounts, StoreError> {
                let count = |count: i64| u64::try_from(count).unwrap_or(0);
                // One read transaction: the totals agree with each other.
                let mut tx = self.$reader.begin().await?;
                let statuses: Vec<LabelCount> = sqlx::query_as(sql::CASES_BY_STATUS)
                    .fetch_all(&mut *tx)
                    .await?;
                let severities: Vec<RankCount> = sqlx::query_as(sql::CASES_OPEN_BY_SEVERITY)
                    .fetch_all(&mut *tx)
                    .await?;
                let overdue: i64 = sqlx::query_scalar(sql::CASES_OPEN_OVERDUE)
                    .bind(micros(now))
                    .fetch_one(&mut *tx)
                    .await?;
                tx.commit().await?;
                let mut by_status = Vec::with_capacity(statuses.len());
                for row in statuses {
                    let status: CaseStatus =
                        $crate::rows::parse_column("cases", "status", &row.label)?;
                    by_status.push((status, count(row.count)));
                }
                by_status.sort();
                let mut open_by_severity = Vec::with_capacity(severities.len());
                for row in severities {
                    let severity = $crate::rows::severity_from_column(row.label)?;
                    open_by_severity.push((severity, count(row.count)));
                }
                Ok(CaseCounts {
                    by_status,
                    open_by_severity,
                    open_overdue: count(overdue),
                })
            }

            async fn add_task(
                &self,
                case_id: i64,
                task: &NewTask,
                actor: &str,
            ) -> Result<Task, StoreError> {
                check_title("task", &task.title)?;
                let (_, now) = now_micros();
                let mut tx = self.begin_write().await?;
                case_to_change(&mut tx, case_id).await?;
                let position = match task.order {
                    Some(order) => order,
                    None => next_task_position(&mut tx, case_id).await?,
                };
                let added = insert_task(&mut tx, case_id, task, position, now).await?;
                write_timeline(
                    &mut tx,
                    case_id,
                    now,
                    actor,
                    TimelineKind::TaskAdded,
                    &format!("task added: {}", added.title),
                    &json!({ "task": added.id, "title": added.title }),
                )
                .await?;
                touch_case(&mut tx, case_id, now).await?;
                tx.commit().await?;
                Ok(added)
            }

            async fn update_task(
                &self,
                task_id: i64,
                update: &TaskUpdate,
                actor: &str,
            ) -> Result<Task, StoreError> {
                self.update_task_in_db(task_id, update, actor).await
            }

            async fn tasks(&self, case_id: i64) -> Result<Vec<Task>, StoreError> {
                let rows: Vec<TaskRow> = sqlx::query_as(sql::TASK_LIST)
                    .bind(case_id)
                    .fetch_all(&self.$reader)
                    .await?;
                rows.into_iter().map(TaskRow::into_task).collect()
            }

            async fn add_observable(
                &self,
                case_id: i64,
                observable: &NewObservable,
                actor: &str,
            ) -> Result<(Observable, bool), StoreError> {
                let (_, now) = now_micros();
                let mut tx = self.begin_write().await?;
                case_to_change(&mut tx, case_id).await?;
                let indicator_id = indicator_id_of(&mut tx, &observable.indicator).await?;
                let (stored, new) =
                    merge_observable(&mut tx, case_id, observable, indicator_id, now).await?;
                if new {
                    let indicator = &stored.indicator;
                    write_timeline(
                        &mut tx,
                        case_id,
                        now,
                        actor,
                        TimelineKind::ObservableAdded,
                        &format!("observable added: {} {}", indicator.kind(), indicator.value()),
                        &json!({
                            "observable": stored.id,
                            "kind": indicator.kind(),
                            "value": indicator.value(),
                            "ioc": stored.ioc,
                        }),
                    )
                    .await?;
                }
                touch_case(&mut tx, case_id, now).await?;
                tx.commit().await?;
                Ok((stored, new))
            }

            async fn observables(&self, case_id: i64) -> Result<Vec<Observable>, StoreError> {
                let mut connection = self.$reader.acquire().await?;
                observables_of(&mut connection, case_id).await
            }

            async fn add_timeline(
                &self,
                case_id: i64,
                entry: &NewTimelineEntry,
            ) -> Result<TimelineEntry, StoreError> {
                let at = micros(entry.at);
                let mut tx = self.begin_write().await?;
                case_to_change(&mut tx, case_id).await?;
                let id = write_timeline(
                    &mut tx,
                    case_id,
                    at,
                    &entry.actor,
                    entry.kind,
                    &entry.message,
                    &entry.detail,
                )
                .await?;
                touch_case(&mut tx, case_id, at).await?;
                tx.commit().await?;
                Ok(TimelineEntry {
                    id,
                    case_id,
                    at: $crate::rows::timestamp("case_timeline", at)?,
                    actor: entry.actor.clone(),
                    kind: entry.kind,
                    message: entry.message.clone(),
                    detail: detail_object(&entry.detail),
                })
            }

            async fn timeline(&self, case_id: i64) -> Result<Vec<TimelineEntry>, StoreError> {
                let rows: Vec<TimelineRow> = sqlx::query_as(sql::TIMELINE_LIST)
                    .bind(case_id)
                    .fetch_all(&self.$reader)
                    .await?;
                rows.into_iter().map(TimelineRow::into_entry).collect()
            }

            async fn link_alerts(
                &self,
                case_id: i64,
                alert_ids: &[i64],
                actor: &str,
            ) -> Result<AlertLinks, StoreError> {
                self.link_alerts_in_db(case_id, alert_ids, actor).await
            }

            async fn unlink_alerts(
                &self,
                case_id: i64,
                alert_ids: &[i64],
                actor: &str,
            ) -> Result<Vec<i64>, StoreError> {
                let (_, now) = now_micros();
                let mut tx = self.begin_write().await?;
                case_to_change(&mut tx, case_id).await?;
                let mut removed: Vec<i64> = sqlx::query_scalar(sql::CASE_ALERTS_UNLINK)
                    .bind(case_id)
                    .bind(id_list(&distinct(alert_ids)))
                    .fetch_all(&mut *tx)
                    .await?;
                removed.sort_unstable();
                if !removed.is_empty() {
                    write_timeline(
                        &mut tx,
                        case_id,
                        now,
                        actor,
                        TimelineKind::AlertUnlinked,
                        &format!("{} taken out of the case", alerts_phrase(removed.len())),
                        &json!({ "alerts": removed }),
                    )
                    .await?;
                    touch_case(&mut tx, case_id, now).await?;
                }
                tx.commit().await?;
                Ok(removed)
            }

            async fn case_of_alert(&self, alert_id: i64) -> Result<Option<CaseAlert>, StoreError> {
                let row: Option<CaseAlertRow> = sqlx::query_as(sql::CASE_ALERT_GET)
                    .bind(alert_id)
                    .fetch_optional(&self.$reader)
                    .await?;
                row.map(CaseAlertRow::into_link).transpose()
            }

            async fn alerts_of_case(&self, case_id: i64) -> Result<Vec<LinkedAlert>, StoreError> {
                let rows: Vec<LinkedAlertRow> = sqlx::query_as(sql::CASE_ALERTS_LIST)
                    .bind(case_id)
                    .fetch_all(&self.$reader)
                    .await?;
                rows.into_iter().map(LinkedAlertRow::into_linked).collect()
            }

            async fn alert_by_key(
                &self,
                key: &str,
                first_seen: Timestamp,
            ) -> Result<Option<StoredAlert>, StoreError> {
                let row: Option<AlertRow> = sqlx::query_as(sql::ALERT_BY_KEY)
                    .bind(key)
                    .bind(micros(first_seen))
                    .fetch_optional(&self.$reader)
                    .await?;
                row.map(AlertRow::into_alert).transpose()
            }
        }
    };
}

pub(crate) use case_helpers;
pub(crate) use case_store;
