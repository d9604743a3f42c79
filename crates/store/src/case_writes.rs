//! The longer write transactions of [`CaseStore`](crate::CaseStore), for both backends: opening
//! a case, updating it, moving it through its lifecycle, updating a task, linking alerts and
//! merging cases. Expanded as inherent `*_in_db` methods that the trait implementation of
//! [`case_store`](crate::case_store) forwards to, beside its helpers.

/// Implements the write transactions as inherent methods of `$store`. Expects the helpers of
/// `case_helpers!` in scope and the backend's statements as `sql`.
macro_rules! case_writes {
    ($store:ty) => {
        impl $store {
            async fn create_case_in_db(&self, case: &NewCase) -> Result<Case, StoreError> {
                check_title("case", &case.title)?;
                for task in &case.tasks {
                    check_title("task", &task.title)?;
                }
                let (_, now) = now_micros();
                let tags = clean_tags(&case.tags);
                let techniques = clean_techniques(&case.techniques);
                let mut tx = self.begin_write().await?;
                let id: i64 = sqlx::query_scalar(sql::CASE_INSERT)
                    .bind(&case.title)
                    .bind(&case.description)
                    .bind(case.severity as i64)
                    .bind(case.tlp.short())
                    .bind(case.pap.short())
                    .bind(case.assignee.as_deref())
                    .bind(json_list(&tags))
                    .bind(json_list(&techniques))
                    .bind(case.campaign.as_deref())
                    .bind(now)
                    .bind(case.due.map(micros))
                    .bind(&case.created_by)
                    .fetch_one(&mut *tx)
                    .await?;
                for (index, task) in case.tasks.iter().enumerate() {
                    let position = task
                        .order
                        .unwrap_or_else(|| i64::try_from(index).unwrap_or(i64::MAX));
                    insert_task(&mut tx, id, task, position, now).await?;
                }
                write_timeline(
                    &mut tx,
                    id,
                    now,
                    &case.created_by,
                    TimelineKind::Created,
                    "case opened",
                    &json!({
                        "title": case.title,
                        "severity": case.severity,
                        "campaign": case.campaign,
                        "tasks": case.tasks.len(),
                    }),
                )
                .await?;
                let created = case_to_change(&mut tx, id).await?;
                tx.commit().await?;
                Ok(created)
            }

            async fn update_case_in_db(
                &self,
                id: i64,
                update: &CaseUpdate,
                actor: &str,
            ) -> Result<Case, StoreError> {
                let (now, at) = now_micros();
                let mut tx = self.begin_write().await?;
                let mut case = case_to_change(&mut tx, id).await?;
                let changes = apply_case_update(&mut case, update)?;
                if changes.assigned.is_none() && changes.fields.is_empty() {
                    return Ok(case);
                }
                case.updated = case.updated.max(now);
                save_case(&mut tx, &case).await?;
                if let Some((from, to)) = &changes.assigned {
                    let message = match to {
                        Some(user) => format!("assigned to {user}"),
                        None => "unassigned".to_owned(),
                    };
                    let detail = json!({ "from": from, "to": to });
                    write_timeline(&mut tx, id, at, actor, TimelineKind::Assigned, &message, &detail)
                        .await?;
                }
                if !changes.fields.is_empty() {
                    let names: Vec<&str> = changes.fields.keys().map(String::as_str).collect();
                    let message = format!("changed {}", names.join(", "));
                    let detail = json!({ "changes": changes.fields });
                    write_timeline(&mut tx, id, at, actor, TimelineKind::Updated, &message, &detail)
                        .await?;
                }
                tx.commit().await?;
                Ok(case)
            }

            async fn set_case_status_in_db(
                &self,
                id: i64,
                update: &StatusUpdate,
                actor: &str,
            ) -> Result<Case, StoreError> {
                let (now, at) = now_micros();
                let mut tx = self.begin_write().await?;
                let mut case = case_to_change(&mut tx, id).await?;
                let change = case
                    .check_status_change(update.status, update.duplicate_of)
                    .map_err(|source| StoreError::StatusChange { case: id, source })?;
                if let Some(target) = update.duplicate_of
                    && read_case(&mut tx, sql::CASE_GET, target).await?.is_none()
                {
                    return Err(StoreError::UnknownCase(target));
                }
                let from = case.status;
                case.status = update.status;
                case.duplicate_of = update.duplicate_of;
                case.updated = case.updated.max(now);
                let kind = match change {
                    StatusChange::Start => TimelineKind::StatusChanged,
                    StatusChange::Close => {
                        case.closed = Some(now);
                        if update.resolution.is_some() {
                            case.resolution.clone_from(&update.resolution);
                        }
                        TimelineKind::StatusChanged
                    }
                    StatusChange::Reopen => {
                        case.closed = None;
                        case.resolution = None;
                        TimelineKind::Reopened
                    }
                };
                save_case(&mut tx, &case).await?;
                let message = match update.duplicate_of {
                    Some(target) => format!("{from} → duplicate of case {target}"),
                    None => format!("{from} → {}", update.status),
                };
                let detail = json!({
                    "from": from,
                    "to": update.status,
                    "duplicate_of": update.duplicate_of,
                    "resolution": update.resolution,
                });
                write_timeline(&mut tx, id, at, actor, kind, &message, &detail).await?;
                tx.commit().await?;
                Ok(case)
            }

            async fn update_task_in_db(
                &self,
                task_id: i64,
                update: &TaskUpdate,
                actor: &str,
            ) -> Result<Task, StoreError> {
                let (now, at) = now_micros();
                let mut tx = self.begin_write().await?;
                let row: Option<TaskRow> = sqlx::query_as(sql::TASK_GET_FOR_UPDATE)
                    .bind(task_id)
                    .fetch_optional(&mut *tx)
                    .await?;
                let mut task = row.ok_or(StoreError::UnknownTask(task_id))?.into_task()?;
                let fields = apply_task_update(&mut task, update)?;
                if fields.is_empty() {
                    return Ok(task);
                }
                task.updated = task.updated.max(now);
                sqlx::query(sql::TASK_SAVE)
                    .bind(task.id)
                    .bind(&task.title)
                    .bind(&task.description)
                    .bind(task.assignee.as_deref())
                    .bind(task.status.as_str())
                    .bind(task.due.map(micros))
                    .bind(task.order)
                    .bind(micros(task.updated))
                    .execute(&mut *tx)
                    .await?;
                let names: Vec<&str> = fields.keys().map(String::as_str).collect();
                let message = format!("task {}: changed {}", task.title, names.join(", "));
                let detail = json!({ "task": task.id, "changes": fields });
                write_timeline(&mut tx, task.case_id, at, actor, TimelineKind::TaskUpdated, &message, &detail)
                    .await?;
                touch_case(&mut tx, task.case_id, at).await?;
                tx.commit().await?;
                Ok(task)
            }

            async fn link_alerts_in_db(
                &self,
                case_id: i64,
                alert_ids: &[i64],
                actor: &str,
            ) -> Result<AlertLinks, StoreError> {
                let (_, now) = now_micros();
                let wanted = distinct(alert_ids);
                let mut tx = self.begin_write().await?;
                case_to_change(&mut tx, case_id).await?;
                let places: Vec<AlertPlaceRow> = sqlx::query_as(sql::ALERT_PLACES)
                    .bind(id_list(&wanted))
                    .fetch_all(&mut *tx)
                    .await?;
                let mut links = AlertLinks::default();
                let mut found = Vec::with_capacity(places.len());
                for place in places {
                    found.push(place.alert_id);
                    match place.case_id {
                        None => links.linked.push(place.alert_id),
                        Some(current) if current == case_id => links.already.push(place.alert_id),
                        Some(current) => links.moved.push(MovedAlert {
                            alert_id: place.alert_id,
                            from_case: current,
                        }),
                    }
                }
                links.missing = wanted.into_iter().filter(|id| !found.contains(id)).collect();
                let mut taken: Vec<i64> = links.linked.clone();
                taken.extend(links.moved.iter().map(|moved| moved.alert_id));
                taken.sort_unstable();
                if taken.is_empty() {
                    tx.commit().await?;
                    return Ok(links);
                }
                sqlx::query(sql::CASE_ALERTS_UPSERT)
                    .bind(id_list(&taken))
                    .bind(case_id)
                    .bind(now)
                    .bind(actor)
                    .execute(&mut *tx)
                    .await?;
                let mut sources: Vec<i64> = links.moved.iter().map(|moved| moved.from_case).collect();
                sources.sort_unstable();
                sources.dedup();
                for source in sources {
                    let alerts: Vec<i64> = links
                        .moved
                        .iter()
                        .filter(|moved| moved.from_case == source)
                        .map(|moved| moved.alert_id)
                        .collect();
                    let message = format!("{} moved to case {case_id}", alerts_phrase(alerts.len()));
                    let detail = json!({ "alerts": alerts, "to_case": case_id });
                    write_timeline(&mut tx, source, now, actor, TimelineKind::AlertUnlinked, &message, &detail)
                        .await?;
                    touch_case(&mut tx, source, now).await?;
                }
                let message = format!("{} linked", alerts_phrase(taken.len()));
                let detail = json!({ "alerts": taken, "moved": links.moved });
                write_timeline(&mut tx, case_id, now, actor, TimelineKind::AlertLinked, &message, &detail)
                    .await?;
                touch_case(&mut tx, case_id, now).await?;
                tx.commit().await?;
                Ok(links)
            }

            async fn merge_cases_in_db(
                &self,
                into: i64,
                from: i64,
                actor: &str,
            ) -> Result<MergeOutcome, StoreError> {
                if into == from {
                    return Err(StoreError::Refused(format!(
                        "case {into} cannot be merged into itself"
                    )));
                }
                let (now, at) = now_micros();
                let mut tx = self.begin_write().await?;
                // Locked in id order, so that two opposite merges cannot deadlock.
                let (mut target, mut source) = if into < from {
                    let target = case_to_change(&mut tx, into).await?;
                    (target, case_to_change(&mut tx, from).await?)
                } else {
                    let source = case_to_change(&mut tx, from).await?;
                    (case_to_change(&mut tx, into).await?, source)
                };
                if let Some(original) = target.duplicate_of {
                    return Err(StoreError::Refused(format!(
                        "case {into} is a duplicate of case {original}: merge into that one"
                    )));
                }
                source
                    .check_status_change(CaseStatus::Duplicate, Some(into))
                    .map_err(|error| StoreError::StatusChange { case: from, source: error })?;
                let alerts_moved = sqlx::query(sql::CASE_ALERTS_MOVE)
                    .bind(from)
                    .bind(into)
                    .bind(at)
                    .bind(actor)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                let offset = next_task_position(&mut tx, into).await?;
                let tasks_moved = sqlx::query(sql::TASKS_MOVE)
                    .bind(from)
                    .bind(into)
                    .bind(offset)
                    .bind(at)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                let (mut observables_moved, mut observables_merged) = (0, 0);
                for observable in observables_of(&mut tx, from).await? {
                    let moving = NewObservable {
                        indicator: observable.indicator.clone(),
                        ioc: observable.ioc,
                        sighted: observable.sighted,
                        tlp: observable.tlp,
                        tags: observable.tags.clone(),
                        message: observable.message.clone(),
                    };
                    let created = micros(observable.created);
                    let (_, new) =
                        merge_observable(&mut tx, into, &moving, observable.indicator_id, created)
                            .await?;
                    if new {
                        observables_moved += 1;
                    } else {
                        observables_merged += 1;
                    }
                    sqlx::query(sql::OBSERVABLE_DELETE)
                        .bind(observable.id)
                        .execute(&mut *tx)
                        .await?;
                }
                target.severity = target.severity.max(source.severity);
                target.tags = clean_tags(&[target.tags.as_slice(), source.tags.as_slice()].concat());
                target.techniques = clean_techniques(
                    &[target.techniques.as_slice(), source.techniques.as_slice()].concat(),
                );
                target.updated = target.updated.max(now);
                save_case(&mut tx, &target).await?;
                let from_status = source.status;
                source.status = CaseStatus::Duplicate;
                source.duplicate_of = Some(into);
                source.closed = Some(now);
                source.updated = source.updated.max(now);
                save_case(&mut tx, &source).await?;
                let moved = json!({
                    "alerts": alerts_moved,
                    "tasks": tasks_moved,
                    "observables": observables_moved + observables_merged,
                });
                let detail = json!({ "into": into, "from_status": from_status, "moved": moved });
                let message = format!("merged into case {into}");
                write_timeline(&mut tx, from, at, actor, TimelineKind::Merged, &message, &detail)
                    .await?;
                let detail = json!({ "from": from, "moved": moved });
                let message = format!("case {from} merged in");
                write_timeline(&mut tx, into, at, actor, TimelineKind::Merged, &message, &detail)
                    .await?;
                tx.commit().await?;
                Ok(MergeOutcome {
                    into: target,
                    alerts_moved,
                    tasks_moved,
                    observables_moved,
                    observables_merged,
                })
            }
        }
    };
}

pub(crate) use case_writes;
