//! The [`RespondStore`](crate::RespondStore) of both backends, written once as in
//! [`account_store`](crate::account_store): only the pools and the SQL text differ.

/// Implements `RespondStore` for `$store`, whose `$reader` pool serves reads, `$writer` pool
/// single writes and `begin_write()` write transactions. The call site must have the backend's
/// statements in scope as `sql`.
macro_rules! respond_store {
    ($store:ty, $connection:ty, reader: $reader:ident, writer: $writer:ident) => {
        use std::collections::BTreeSet;

        use rampart_model::{Indicator, Timestamp};

        use $crate::common::{page_limit, status_list};
        use $crate::rows::micros;
        use $crate::rows::respond::{ActionRow, BlockListRow, BlockRow, RunRow, StandingRow};
        use $crate::{
            ActionRecord, BlockEntry, BlockListRevision, BlockOutcome, BlockQuery, BlockSelector,
            NewBlock, NewRun, Removal, RunProgress, RunQuery, RunRecord, StoreError,
        };

        /// A new revision for every list in `lists`.
        async fn bump_lists(
            connection: &mut $connection,
            lists: BTreeSet<&str>,
            now: Timestamp,
        ) -> Result<(), StoreError> {
            for list in lists {
                sqlx::query(sql::BLOCK_LIST_BUMP)
                    .bind(list)
                    .bind(micros(now))
                    .execute(&mut *connection)
                    .await?;
            }
            Ok(())
        }

        fn entries(rows: Vec<BlockRow>) -> Result<Vec<BlockEntry>, StoreError> {
            rows.into_iter().map(BlockRow::into_entry).collect()
        }

        /// The later of two expiries, where none is the latest.
        fn later_expiry(standing: Option<i64>, renewal: Option<i64>) -> Option<i64> {
            standing
                .zip(renewal)
                .map(|(first, second)| first.max(second))
        }

        #[async_trait::async_trait]
        impl $crate::RespondStore for $store {
            async fn add_blocks(
                &self,
                blocks: &[NewBlock],
                now: Timestamp,
            ) -> Result<Vec<BlockOutcome>, StoreError> {
                let mut tx = self.begin_write().await?;
                let mut outcomes = Vec::with_capacity(blocks.len());
                let mut changed = BTreeSet::new();
                for block in blocks {
                    let kind = block.indicator.kind().as_str();
                    let value = block.indicator.value();
                    let expires = block.expires.map(micros);
                    let standing: Option<StandingRow> = sqlx::query_as(sql::BLOCK_FIND_STANDING)
                        .bind(&block.list)
                        .bind(kind)
                        .bind(value)
                        .fetch_optional(&mut *tx)
                        .await?;
                    let outcome = match standing {
                        Some(standing) => {
                            let renewed = later_expiry(standing.expires, expires);
                            if renewed != standing.expires {
                                sqlx::query(sql::BLOCK_SET_EXPIRY)
                                    .bind(standing.id)
                                    .bind(renewed)
                                    .execute(&mut *tx)
                                    .await?;
                                changed.insert(block.list.as_str());
                            }
                            BlockOutcome::Renewed(standing.id)
                        }
                        None => {
                            let id: i64 = sqlx::query_scalar(sql::BLOCK_INSERT)
                                .bind(&block.list)
                                .bind(kind)
                                .bind(value)
                                .bind(&block.reason)
                                .bind(&block.added_by)
                                .bind(block.run_id)
                                .bind(micros(now))
                                .bind(expires)
                                .fetch_one(&mut *tx)
                                .await?;
                            changed.insert(block.list.as_str());
                            BlockOutcome::Added(id)
                        }
                    };
                    outcomes.push(outcome);
                }
                bump_lists(&mut tx, changed, now).await?;
                tx.commit().await?;
                Ok(outcomes)
            }

            async fn remove_blocks(
                &self,
                selector: &BlockSelector,
                removal: &Removal,
            ) -> Result<Vec<BlockEntry>, StoreError> {
                let at = micros(removal.at);
                let mut tx = self.begin_write().await?;
                let rows: Vec<BlockRow> = match selector {
                    BlockSelector::Ids(ids) => {
                        let mut rows = Vec::new();
                        for id in ids {
                            let row: Option<BlockRow> = sqlx::query_as(sql::BLOCK_REMOVE_ID)
                                .bind(id)
                                .bind(at)
                                .bind(&removal.by)
                                .bind(&removal.reason)
                                .fetch_optional(&mut *tx)
                                .await?;
                            rows.extend(row);
                        }
                        rows
                    }
                    BlockSelector::Indicator(indicator) => {
                        sqlx::query_as(sql::BLOCK_REMOVE_INDICATOR)
                            .bind(indicator.kind().as_str())
                            .bind(indicator.value())
                            .bind(at)
                            .bind(&removal.by)
                            .bind(&removal.reason)
                            .fetch_all(&mut *tx)
                            .await?
                    }
                    BlockSelector::Listed { list, indicator } => {
                        sqlx::query_as(sql::BLOCK_REMOVE_LISTED)
                            .bind(list)
                            .bind(indicator.kind().as_str())
                            .bind(indicator.value())
                            .bind(at)
                            .bind(&removal.by)
                            .bind(&removal.reason)
                            .fetch_all(&mut *tx)
                            .await?
                    }
                    BlockSelector::Run(run_id) => {
                        sqlx::query_as(sql::BLOCK_REMOVE_RUN)
                            .bind(run_id)
                            .bind(at)
                            .bind(&removal.by)
                            .bind(&removal.reason)
                            .fetch_all(&mut *tx)
                            .await?
                    }
                };
                let removed = entries(rows)?;
                let lists = removed.iter().map(|entry| entry.list.as_str()).collect();
                bump_lists(&mut tx, lists, removal.at).await?;
                tx.commit().await?;
                Ok(removed)
            }

            async fn expire_blocks(&self, now: Timestamp) -> Result<Vec<BlockEntry>, StoreError> {
                let mut tx = self.begin_write().await?;
                let rows: Vec<BlockRow> = sqlx::query_as(sql::BLOCK_EXPIRE)
                    .bind(micros(now))
                    .fetch_all(&mut *tx)
                    .await?;
                let expired = entries(rows)?;
                let lists = expired.iter().map(|entry| entry.list.as_str()).collect();
                bump_lists(&mut tx, lists, now).await?;
                tx.commit().await?;
                Ok(expired)
            }

            async fn blocks(&self, query: &BlockQuery) -> Result<Vec<BlockEntry>, StoreError> {
                let rows: Vec<BlockRow> = sqlx::query_as(sql::BLOCK_LIST)
                    .bind(query.list.as_deref())
                    .bind(
                        query
                            .indicator
                            .as_ref()
                            .map(|indicator| indicator.kind().as_str()),
                    )
                    .bind(query.indicator.as_ref().map(Indicator::value))
                    .bind(query.run_id)
                    .bind(query.added_by.as_deref())
                    .bind(query.added_since.map(micros))
                    .bind(query.standing_at.map(micros))
                    .bind(query.after_id.unwrap_or(0))
                    .bind(page_limit(query.limit))
                    .fetch_all(&self.$reader)
                    .await?;
                entries(rows)
            }

            async fn block_lists(
                &self,
                now: Timestamp,
            ) -> Result<Vec<BlockListRevision>, StoreError> {
                let rows: Vec<BlockListRow> = sqlx::query_as(sql::BLOCK_LISTS)
                    .bind(micros(now))
                    .fetch_all(&self.$reader)
                    .await?;
                rows.into_iter().map(BlockListRow::into_revision).collect()
            }

            async fn create_run(&self, run: &NewRun) -> Result<RunRecord, StoreError> {
                let row: RunRow = sqlx::query_as(sql::RUN_INSERT)
                    .bind(&run.playbook)
                    .bind(&run.digest)
                    .bind(run.trigger.to_string())
                    .bind(run.dry_run)
                    .bind(run.state.to_string())
                    .bind(micros(run.started))
                    .fetch_one(&self.$writer)
                    .await?;
                row.into_record()
            }

            async fn update_run(
                &self,
                id: i64,
                progress: &RunProgress,
            ) -> Result<Option<RunRecord>, StoreError> {
                let row: Option<RunRow> = sqlx::query_as(sql::RUN_UPDATE)
                    .bind(id)
                    .bind(progress.status.as_str())
                    .bind(i64::from(progress.step))
                    .bind(progress.state.to_string())
                    .bind(micros(progress.at))
                    .bind(progress.wake.map(micros))
                    .bind(progress.error.as_deref())
                    .fetch_optional(&self.$writer)
                    .await?;
                row.map(RunRow::into_record).transpose()
            }

            async fn record_action(&self, action: &ActionRecord) -> Result<(), StoreError> {
                sqlx::query(sql::ACTION_UPSERT)
                    .bind(action.run_id)
                    .bind(i64::from(action.step))
                    .bind(&action.action)
                    .bind(action.status.as_str())
                    .bind(i64::from(action.attempts))
                    .bind(micros(action.started))
                    .bind(action.finished.map(micros))
                    .bind(i64::try_from(action.duration_ms).unwrap_or(i64::MAX))
                    .bind(action.result.to_string())
                    .bind(action.error.as_deref())
                    .execute(&self.$writer)
                    .await?;
                Ok(())
            }

            async fn run(
                &self,
                id: i64,
            ) -> Result<Option<(RunRecord, Vec<ActionRecord>)>, StoreError> {
                // One read transaction: the actions belong to the run as read.
                let mut tx = self.$reader.begin().await?;
                let row: Option<RunRow> = sqlx::query_as(sql::RUN_GET)
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?;
                let Some(row) = row else {
                    return Ok(None);
                };
                let actions: Vec<ActionRow> = sqlx::query_as(sql::ACTIONS_OF_RUN)
                    .bind(id)
                    .fetch_all(&mut *tx)
                    .await?;
                tx.commit().await?;
                let actions = actions
                    .into_iter()
                    .map(ActionRow::into_record)
                    .collect::<Result<_, _>>()?;
                Ok(Some((row.into_record()?, actions)))
            }

            async fn runs(&self, query: &RunQuery) -> Result<Vec<RunRecord>, StoreError> {
                let rows: Vec<RunRow> = sqlx::query_as(sql::RUN_LIST)
                    .bind(query.playbook.as_deref())
                    .bind(status_list(
                        query.statuses.iter().map(|status| status.as_str()),
                    ))
                    .bind(query.before_id.unwrap_or(i64::MAX))
                    .bind(page_limit(query.limit))
                    .fetch_all(&self.$reader)
                    .await?;
                rows.into_iter().map(RunRow::into_record).collect()
            }

            async fn unfinished_runs(&self) -> Result<Vec<RunRecord>, StoreError> {
                let rows: Vec<RunRow> = sqlx::query_as(sql::RUNS_UNFINISHED)
                    .fetch_all(&self.$reader)
                    .await?;
                rows.into_iter().map(RunRow::into_record).collect()
            }
        }
    };
}

pub(crate) use respond_store;
