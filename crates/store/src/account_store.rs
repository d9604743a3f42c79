//! The [`AccountStore`](crate::AccountStore) of both backends, written once: the two differ
//! only in their connection type, which pools read and write, and their SQL text (each backend's
//! `queries` module, imported as `sql` where the macro is used).

/// Implements `AccountStore` for `$store`, whose `$reader` pool serves reads, `$writer` pool
/// single writes and `begin_write()` write transactions. The call site must have the backend's
/// statements in scope as `sql`.
macro_rules! account_store {
    ($store:ty, $connection:ty, reader: $reader:ident, writer: $writer:ident) => {
        use rampart_auth::SecretHash;
        use rampart_model::Timestamp;

        use $crate::common::{
            check_new_session, check_new_token, judge_token, live_session, on_unique, page_limit,
        };
        use $crate::rows::accounts::{AuditRow, SessionRow, TokenRow, UserRow, audit_columns};
        use $crate::rows::micros;
        use $crate::{
            AuditEntry, AuditQuery, AuditRecord, NewSession, NewToken, NewUser, Session,
            StoreError, TokenCheck, TokenRecord, User,
        };

        async fn user_by_id(
            connection: &mut $connection,
            id: i64,
        ) -> Result<Option<User>, StoreError> {
            let row: Option<UserRow> = sqlx::query_as(sql::USER_GET_BY_ID)
                .bind(id)
                .fetch_optional(connection)
                .await?;
            row.map(UserRow::into_user).transpose()
        }

        #[async_trait::async_trait]
        impl $crate::AccountStore for $store {
            async fn create_user(&self, user: &NewUser) -> Result<User, StoreError> {
                let mut tx = self.begin_write().await?;
                let id: i64 = sqlx::query_scalar(sql::USER_INSERT)
                    .bind(user.username.as_str())
                    .bind(user.role.as_str())
                    .bind(&user.password_hash)
                    .bind(micros(Timestamp::now()))
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(|err| on_unique(err, || StoreError::UserExists(user.username.to_string())))?;
                let created = user_by_id(&mut tx, id).await?;
                tx.commit().await?;
                created.ok_or_else(|| StoreError::UnknownUser(format!("id {id}")))
            }

            async fn user(&self, username: &str) -> Result<Option<User>, StoreError> {
                let row: Option<UserRow> = sqlx::query_as(sql::USER_GET)
                    .bind(username)
                    .fetch_optional(&self.$reader)
                    .await?;
                row.map(UserRow::into_user).transpose()
            }

            async fn users(&self) -> Result<Vec<User>, StoreError> {
                let rows: Vec<UserRow> = sqlx::query_as(sql::USER_LIST)
                    .fetch_all(&self.$reader)
                    .await?;
                rows.into_iter().map(UserRow::into_user).collect()
            }

            async fn set_user_disabled(&self, username: &str, disabled: bool) -> Result<bool, StoreError> {
                let mut tx = self.begin_write().await?;
                let id: Option<i64> = sqlx::query_scalar(sql::USER_SET_DISABLED)
                    .bind(username)
                    .bind(disabled)
                    .fetch_optional(&mut *tx)
                    .await?;
                if let (Some(id), true) = (id, disabled) {
                    sqlx::query(sql::SESSIONS_DELETE_USER)
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(id.is_some())
            }

            async fn create_token(&self, token: &NewToken) -> Result<TokenRecord, StoreError> {
                let now = Timestamp::now();
                let mut tx = self.begin_write().await?;
                let owner = user_by_id(&mut tx, token.owner_id).await?;
                check_new_token(token, owner, now)?;
                let hash = token.hash.to_hex();
                sqlx::query_scalar::<_, i64>(sql::TOKEN_INSERT)
                    .bind(&hash)
                    .bind(&token.name)
                    .bind(token.owner_id)
                    .bind(token.role.as_str())
                    .bind(micros(now))
                    .bind(token.expires.map(micros))
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(|err| {
                        on_unique(err, || {
                            StoreError::Refused("this token exists already".into())
                        })
                    })?;
                let row: TokenRow = sqlx::query_as(sql::TOKEN_GET_BY_HASH)
                    .bind(&hash)
                    .fetch_one(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(row.into_parts()?.0)
            }

            async fn tokens(&self, owner_id: Option<i64>) -> Result<Vec<TokenRecord>, StoreError> {
                let rows: Vec<TokenRow> = sqlx::query_as(sql::TOKEN_LIST)
                    .bind(owner_id)
                    .fetch_all(&self.$reader)
                    .await?;
                rows.into_iter()
                    .map(|row| Ok(row.into_parts()?.0))
                    .collect()
            }

            async fn revoke_token(&self, id: i64) -> Result<bool, StoreError> {
                let affected = sqlx::query(sql::TOKEN_REVOKE)
                    .bind(id)
                    .execute(&self.$writer)
                    .await?
                    .rows_affected();
                Ok(affected > 0)
            }

            async fn authenticate_token(
                &self,
                hash: &SecretHash,
                now: Timestamp,
            ) -> Result<TokenCheck, StoreError> {
                let row: Option<TokenRow> = sqlx::query_as(sql::TOKEN_GET_BY_HASH)
                    .bind(hash.to_hex())
                    .fetch_optional(&self.$reader)
                    .await?;
                let (check, touch) = judge_token(row, now)?;
                if let (TokenCheck::Valid(token), true) = (&check, touch) {
                    let writer = self.$writer.clone();
                    let id = token.id;
                    tokio::spawn(async move {
                        let touched = sqlx::query(sql::TOKEN_TOUCH)
                            .bind(id)
                            .bind(micros(now))
                            .execute(&writer)
                            .await;
                        if let Err(err) = touched {
                            tracing::warn!(token = id, error = %err, "cannot record a token's last use");
                        }
                    });
                }
                Ok(check)
            }

            async fn create_session(&self, session: &NewSession) -> Result<(), StoreError> {
                let now = Timestamp::now();
                let mut tx = self.begin_write().await?;
                let user = user_by_id(&mut tx, session.user_id).await?;
                check_new_session(session, user, now)?;
                sqlx::query(sql::SESSION_INSERT)
                    .bind(session.hash.to_hex())
                    .bind(session.user_id)
                    .bind(micros(now))
                    .bind(micros(session.expires))
                    .bind(&session.csrf_token)
                    .execute(&mut *tx)
                    .await
                    .map_err(|err| {
                        on_unique(err, || {
                            StoreError::Refused("this session exists already".into())
                        })
                    })?;
                sqlx::query(sql::USER_LOGIN)
                    .bind(session.user_id)
                    .bind(micros(now))
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn session(
                &self,
                hash: &SecretHash,
                now: Timestamp,
            ) -> Result<Option<Session>, StoreError> {
                let row: Option<SessionRow> = sqlx::query_as(sql::SESSION_GET)
                    .bind(hash.to_hex())
                    .fetch_optional(&self.$reader)
                    .await?;
                live_session(row, now)
            }

            async fn delete_session(&self, hash: &SecretHash) -> Result<bool, StoreError> {
                let affected = sqlx::query(sql::SESSION_DELETE)
                    .bind(hash.to_hex())
                    .execute(&self.$writer)
                    .await?
                    .rows_affected();
                Ok(affected > 0)
            }

            async fn sweep_sessions(&self, now: Timestamp) -> Result<u64, StoreError> {
                Ok(sqlx::query(sql::SESSIONS_SWEEP)
                    .bind(micros(now))
                    .execute(&self.$writer)
                    .await?
                    .rows_affected())
            }

            async fn record_audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
                let (at, actor, action, target, detail, outcome) = audit_columns(entry);
                sqlx::query(sql::AUDIT_INSERT)
                    .bind(at)
                    .bind(actor)
                    .bind(action)
                    .bind(target)
                    .bind(detail)
                    .bind(outcome)
                    .execute(&self.$writer)
                    .await?;
                Ok(())
            }

            async fn audit(&self, query: &AuditQuery) -> Result<Vec<AuditRecord>, StoreError> {
                let statement = if query.newest_first {
                    sql::AUDIT_LIST_NEWEST
                } else {
                    sql::AUDIT_LIST
                };
                let rows: Vec<AuditRow> = sqlx::query_as(statement)
                    .bind(query.since.map(micros))
                    .bind(query.until.map(micros))
                    .bind(query.actor.as_deref())
                    .bind(query.action.as_deref())
                    .bind(page_limit(query.limit))
                    .bind(i64::try_from(query.offset).unwrap_or(i64::MAX))
                    .fetch_all(&self.$reader)
                    .await?;
                rows.into_iter().map(AuditRow::into_record).collect()
            }
        }
    };
}

pub(crate) use account_store;
