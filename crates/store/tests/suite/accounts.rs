//! Cases about accounts, API tokens, sessions and the audit log.

use std::time::Duration;

use rampart_auth::{ApiToken, Role, SecretHash, SessionId, Username, new_csrf_token};
use rampart_model::Timestamp;
use rampart_store::{
    AuditEntry, AuditOutcome, AuditQuery, NewSession, NewToken, NewUser, Store, StoreError,
    TokenCheck, User,
};

use crate::Raw;
use crate::fixtures::at;

/// A cheap, real PHC string: the store keeps it as given and never checks it.
const PHC: &str = "$argon2id$v=19$m=1024,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$\
                   0sUEyqvnqOC0Qk+HoiVBx6lcx5oMu5Emcv9jPZ3GpZw";

async fn add_user(store: &dyn Store, name: &str, role: Role) -> User {
    store
        .create_user(&NewUser {
            username: Username::parse(name).unwrap(),
            role,
            password_hash: PHC.to_owned(),
        })
        .await
        .expect("create user")
}

fn hours(count: i64) -> jiff::SignedDuration {
    jiff::SignedDuration::from_hours(count)
}

fn new_token(
    owner: &User,
    name: &str,
    role: Role,
    expires: Option<Timestamp>,
) -> (ApiToken, NewToken) {
    let token = ApiToken::generate().unwrap();
    let new = NewToken {
        name: name.to_owned(),
        owner_id: owner.id,
        role,
        hash: token.hash(),
        expires,
    };
    (token, new)
}

pub async fn users_are_created_found_and_disabled(store: &dyn Store) {
    let before = Timestamp::now();
    let alice = add_user(store, "Alice", Role::Admin).await;
    let bob = add_user(store, "bob@example.org", Role::Analyst).await;
    assert_eq!(alice.username.as_str(), "Alice");
    assert_eq!(alice.role, Role::Admin);
    assert_eq!(alice.password_hash, PHC);
    assert!(!alice.disabled);
    assert_eq!(alice.last_login, None);
    assert!(alice.created.as_microsecond() >= before.as_microsecond());
    assert!(alice.created <= Timestamp::now());
    assert_ne!(alice.id, bob.id);

    // Names are one account whatever their case.
    let taken = store
        .create_user(&NewUser {
            username: Username::parse("ALICE").unwrap(),
            role: Role::ReadOnly,
            password_hash: PHC.to_owned(),
        })
        .await;
    assert!(matches!(taken, Err(StoreError::UserExists(name)) if name == "ALICE"));
    assert_eq!(store.user("aLiCe").await.unwrap(), Some(alice.clone()));
    assert_eq!(store.user("carol").await.unwrap(), None);

    // Listed by name ignoring case.
    add_user(store, "Zed", Role::Ingest).await;
    add_user(store, "carol", Role::ReadOnly).await;
    let names: Vec<String> = store
        .users()
        .await
        .unwrap()
        .into_iter()
        .map(|user| user.username.to_string())
        .collect();
    assert_eq!(names, ["Alice", "bob@example.org", "carol", "Zed"]);

    assert!(
        store
            .set_user_disabled("BOB@example.org", true)
            .await
            .unwrap()
    );
    assert!(
        store
            .user("bob@example.org")
            .await
            .unwrap()
            .unwrap()
            .disabled
    );
    assert!(!store.set_user_disabled("nobody", true).await.unwrap());
    assert!(
        store
            .set_user_disabled("bob@example.org", false)
            .await
            .unwrap()
    );
    assert!(
        !store
            .user("bob@example.org")
            .await
            .unwrap()
            .unwrap()
            .disabled
    );
}

pub async fn tokens_are_refused_when_revoked_expired_or_orphaned(store: &dyn Store) {
    let now = Timestamp::now();
    let owner = add_user(store, "sensor-admin", Role::Analyst).await;
    let (token, new) = new_token(&owner, "zeek-1", Role::Ingest, Some(now + hours(24)));
    let record = store.create_token(&new).await.unwrap();
    assert_eq!(record.name, "zeek-1");
    assert_eq!(record.owner.as_str(), "sensor-admin");
    assert_eq!(record.owner_id, owner.id);
    assert_eq!(record.role, Role::Ingest);
    assert!(!record.revoked);
    assert_eq!(record.last_used, None);

    // The presented text hashes to the stored hash and is accepted until it expires.
    let presented = ApiToken::hash_presented(token.expose()).unwrap();
    assert_eq!(
        store.authenticate_token(&presented, now).await.unwrap(),
        TokenCheck::Valid(record.clone())
    );
    assert_eq!(
        store
            .authenticate_token(&presented, now + hours(24))
            .await
            .unwrap(),
        TokenCheck::Expired
    );
    let stranger = ApiToken::generate().unwrap().hash();
    assert_eq!(
        store.authenticate_token(&stranger, now).await.unwrap(),
        TokenCheck::Unknown
    );

    // A disabled owner's tokens are refused, and work again when the owner is re-enabled.
    store.set_user_disabled("sensor-admin", true).await.unwrap();
    assert_eq!(
        store.authenticate_token(&presented, now).await.unwrap(),
        TokenCheck::OwnerDisabled
    );
    store
        .set_user_disabled("sensor-admin", false)
        .await
        .unwrap();
    assert!(matches!(
        store.authenticate_token(&presented, now).await.unwrap(),
        TokenCheck::Valid(_)
    ));

    // Revocation is for good.
    assert!(store.revoke_token(record.id).await.unwrap());
    assert!(store.revoke_token(record.id).await.unwrap());
    assert!(!store.revoke_token(record.id + 1000).await.unwrap());
    let check = store.authenticate_token(&presented, now).await.unwrap();
    assert_eq!(check, TokenCheck::Revoked);
    assert_eq!(check.refusal(), Some("token revoked"));

    // A token without expiry lives until revoked.
    let (_, forever) = new_token(&owner, "feed", Role::Analyst, None);
    let forever = store.create_token(&forever).await.unwrap();
    assert_eq!(forever.expires, None);
    let tokens = store.tokens(Some(owner.id)).await.unwrap();
    assert_eq!(tokens.len(), 2);
    assert!(tokens[0].revoked && !tokens[1].revoked);
    assert_eq!(tokens[1], forever);
}

pub async fn token_creation_checks_owner_role_name_and_expiry(store: &dyn Store) {
    let now = Timestamp::now();
    let reader = add_user(store, "reader", Role::ReadOnly).await;
    let admin = add_user(store, "root", Role::Admin).await;

    // Roles are not a ladder: an ingest token is not within read_only.
    for role in [Role::Admin, Role::Analyst, Role::Ingest] {
        let (_, new) = new_token(&reader, "t", role, None);
        let refused = store.create_token(&new).await;
        assert!(
            matches!(refused, Err(StoreError::Refused(_))),
            "{role}: {refused:?}"
        );
    }
    let (_, new) = new_token(&reader, "t", Role::ReadOnly, None);
    store.create_token(&new).await.unwrap();

    for name in ["", "tab\there", &"x".repeat(65)] {
        let (_, new) = new_token(&admin, name, Role::Ingest, None);
        assert!(
            matches!(store.create_token(&new).await, Err(StoreError::Refused(_))),
            "{name:?}"
        );
    }
    let (_, past) = new_token(&admin, "late", Role::Ingest, Some(now - hours(1)));
    assert!(matches!(
        store.create_token(&past).await,
        Err(StoreError::Refused(_))
    ));
    let (_, orphan) = new_token(&admin, "orphan", Role::Ingest, None);
    let orphan = NewToken {
        owner_id: admin.id + 1000,
        ..orphan
    };
    assert!(matches!(
        store.create_token(&orphan).await,
        Err(StoreError::UnknownUser(_))
    ));
    store.set_user_disabled("root", true).await.unwrap();
    let (_, disabled) = new_token(&admin, "x", Role::Ingest, None);
    assert!(matches!(
        store.create_token(&disabled).await,
        Err(StoreError::Refused(_))
    ));

    // Only the reader's token was created.
    let all = store.tokens(None).await.unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].owner.as_str(), "reader");
    assert!(store.tokens(Some(admin.id)).await.unwrap().is_empty());
}

pub async fn token_use_is_recorded_in_the_background(store: &dyn Store) {
    let owner = add_user(store, "ops", Role::Admin).await;
    let (token, new) = new_token(&owner, "ci", Role::ReadOnly, None);
    store.create_token(&new).await.unwrap();
    let first_use = at(2_000_000_000);
    assert!(matches!(
        store
            .authenticate_token(&token.hash(), first_use)
            .await
            .unwrap(),
        TokenCheck::Valid(_)
    ));
    let last_used = wait_for_last_use(store, Some(first_use)).await;
    assert_eq!(last_used, Some(first_use));

    // Within the minute nothing is written; after it the time moves.
    store
        .authenticate_token(
            &token.hash(),
            first_use + jiff::SignedDuration::from_secs(30),
        )
        .await
        .unwrap();
    let later = first_use + jiff::SignedDuration::from_secs(90);
    store
        .authenticate_token(&token.hash(), later)
        .await
        .unwrap();
    assert_eq!(wait_for_last_use(store, Some(later)).await, Some(later));
}

/// Polls the only token's last use until it is `expected` (at most five seconds).
async fn wait_for_last_use(store: &dyn Store, expected: Option<Timestamp>) -> Option<Timestamp> {
    let mut last_used = None;
    for _ in 0..100 {
        last_used = store.tokens(None).await.unwrap()[0].last_used;
        if last_used == expected {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    last_used
}

pub async fn sessions_open_expire_and_end(store: &dyn Store) {
    let now = Timestamp::now();
    let alice = add_user(store, "alice", Role::Analyst).await;
    let id = SessionId::generate().unwrap();
    let csrf = new_csrf_token().unwrap();
    store
        .create_session(&NewSession {
            hash: id.hash(),
            user_id: alice.id,
            expires: now + hours(8),
            csrf_token: csrf.clone(),
        })
        .await
        .unwrap();

    let presented = SessionId::hash_presented(id.expose()).unwrap();
    let session = store.session(&presented, now).await.unwrap().unwrap();
    assert_eq!(session.user.username.as_str(), "alice");
    assert_eq!(session.user.role, Role::Analyst);
    assert_eq!(session.csrf_token, csrf);
    // Times are kept to the microsecond.
    let expires = now + hours(8);
    assert_eq!(session.expires.as_microsecond(), expires.as_microsecond());
    // Opening the session is the login.
    let login = store.user("alice").await.unwrap().unwrap().last_login;
    assert_eq!(login, Some(session.created));
    assert_eq!(session.user.last_login, Some(session.created));

    assert!(
        store
            .session(&presented, now + hours(8))
            .await
            .unwrap()
            .is_none()
    );
    let stranger = SessionId::generate().unwrap().hash();
    assert!(store.session(&stranger, now).await.unwrap().is_none());

    // A second session; the sweep removes only what has expired.
    let short = SessionId::generate().unwrap();
    open(store, &short.hash(), alice.id, now + hours(1)).await;
    assert_eq!(store.sweep_sessions(now).await.unwrap(), 0);
    assert_eq!(store.sweep_sessions(now + hours(2)).await.unwrap(), 1);
    assert!(store.session(&short.hash(), now).await.unwrap().is_none());
    assert!(store.session(&presented, now).await.unwrap().is_some());

    // Logout.
    assert!(store.delete_session(&presented).await.unwrap());
    assert!(!store.delete_session(&presented).await.unwrap());
    assert!(store.session(&presented, now).await.unwrap().is_none());
}

async fn open(store: &dyn Store, hash: &SecretHash, user_id: i64, expires: Timestamp) {
    store
        .create_session(&NewSession {
            hash: *hash,
            user_id,
            expires,
            csrf_token: new_csrf_token().unwrap(),
        })
        .await
        .unwrap();
}

pub async fn disabling_a_user_ends_their_sessions(store: &dyn Store) {
    let now = Timestamp::now();
    let alice = add_user(store, "alice", Role::Admin).await;
    let bob = add_user(store, "bob", Role::ReadOnly).await;
    let alice_session = SessionId::generate().unwrap().hash();
    let bob_session = SessionId::generate().unwrap().hash();
    open(store, &alice_session, alice.id, now + hours(1)).await;
    open(store, &bob_session, bob.id, now + hours(1)).await;

    store.set_user_disabled("alice", true).await.unwrap();
    assert!(store.session(&alice_session, now).await.unwrap().is_none());
    assert!(store.session(&bob_session, now).await.unwrap().is_some());
    // Re-enabling does not bring the session back: it was deleted, not hidden.
    store.set_user_disabled("alice", false).await.unwrap();
    assert!(store.session(&alice_session, now).await.unwrap().is_none());

    // No session for a disabled or unknown account, nor one born expired.
    store.set_user_disabled("bob", true).await.unwrap();
    let refused = store
        .create_session(&NewSession {
            hash: SessionId::generate().unwrap().hash(),
            user_id: bob.id,
            expires: now + hours(1),
            csrf_token: new_csrf_token().unwrap(),
        })
        .await;
    assert!(matches!(refused, Err(StoreError::Refused(_))));
    let unknown = store
        .create_session(&NewSession {
            hash: SessionId::generate().unwrap().hash(),
            user_id: bob.id + 1000,
            expires: now + hours(1),
            csrf_token: new_csrf_token().unwrap(),
        })
        .await;
    assert!(matches!(unknown, Err(StoreError::UnknownUser(_))));
    let expired = store
        .create_session(&NewSession {
            hash: SessionId::generate().unwrap().hash(),
            user_id: alice.id,
            expires: now - hours(1),
            csrf_token: new_csrf_token().unwrap(),
        })
        .await;
    assert!(matches!(expired, Err(StoreError::Refused(_))));
}

fn entry(second: i64, actor: &str, action: &str, target: &str) -> AuditEntry {
    AuditEntry {
        at: at(second),
        ..AuditEntry::new(actor, action).target(target)
    }
}

pub async fn audit_lines_are_filtered_paged_and_exported(store: &dyn Store) {
    let lines = [
        entry(100, "cli:root", "user.create", "alice")
            .detail(serde_json::json!({ "role": "admin" })),
        entry(200, "user:alice", "login", "alice"),
        entry(300, "user:alice", "source.add", "urlhaus"),
        entry(400, "token:zeek-1", "events.ingest", "zeek").outcome(AuditOutcome::Denied),
        entry(500, "user:alice", "source.add", "drop").failed("unknown format \"x\""),
        AuditEntry {
            at: at(600),
            ..AuditEntry::new("system", "feeds.pull")
        },
    ];
    for line in &lines {
        store.record_audit(line).await.unwrap();
    }

    let all = store.audit(&AuditQuery::default()).await.unwrap();
    let entries: Vec<&AuditEntry> = all.iter().map(|record| &record.entry).collect();
    assert_eq!(entries, lines.iter().collect::<Vec<_>>());
    assert!(all.windows(2).all(|pair| pair[0].id < pair[1].id));
    assert_eq!(all[4].entry.outcome, AuditOutcome::Failure);
    assert_eq!(all[4].entry.detail["error"], "unknown format \"x\"");
    assert_eq!(all[5].entry.target, None);

    let query = |query: AuditQuery| async move {
        store
            .audit(&query)
            .await
            .unwrap()
            .into_iter()
            .map(|record| record.entry.at.as_second())
            .collect::<Vec<i64>>()
    };
    assert_eq!(
        query(AuditQuery {
            actor: Some("user:alice".into()),
            ..AuditQuery::default()
        })
        .await,
        [200, 300, 500]
    );
    assert_eq!(
        query(AuditQuery {
            action: Some("source.add".into()),
            since: Some(at(400)),
            ..AuditQuery::default()
        })
        .await,
        [500]
    );
    assert_eq!(
        query(AuditQuery {
            since: Some(at(200)),
            until: Some(at(400)),
            ..AuditQuery::default()
        })
        .await,
        [200, 300]
    );
    // Pages by limit and offset, in either order.
    assert_eq!(
        query(AuditQuery {
            limit: 2,
            offset: 2,
            ..AuditQuery::default()
        })
        .await,
        [300, 400]
    );
    assert_eq!(
        query(AuditQuery {
            limit: 2,
            offset: 1,
            newest_first: true,
            ..AuditQuery::default()
        })
        .await,
        [500, 400]
    );
    assert!(
        query(AuditQuery {
            offset: 6,
            ..AuditQuery::default()
        })
        .await
        .is_empty()
    );

    // The export is JSON lines of the records, oldest first, whatever the query's paging.
    let mut out = Vec::new();
    let written = rampart_store::export_audit(
        store,
        &AuditQuery {
            actor: Some("user:alice".into()),
            newest_first: true,
            limit: 1,
            ..AuditQuery::default()
        },
        &mut out,
    )
    .await
    .unwrap();
    assert_eq!(written, 3);
    let text = String::from_utf8(out).unwrap();
    let exported: Vec<rampart_store::AuditRecord> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(
        exported,
        all.iter()
            .filter(|r| r.entry.actor == "user:alice")
            .cloned()
            .collect::<Vec<_>>()
    );
    let first: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(first["actor"], "user:alice");
    assert_eq!(first["action"], "login");
    assert_eq!(first["outcome"], "success");
    assert_eq!(first["at"], "1970-01-01T00:03:20Z");
}

pub async fn audit_log_is_append_only(store: &dyn Store, raw: &Raw) {
    store
        .record_audit(&AuditEntry::new("system", "test").target("x"))
        .await
        .unwrap();
    let update = raw
        .try_execute("UPDATE audit_log SET actor = 'someone else'")
        .await;
    assert!(update.unwrap_err().contains("append-only"));
    let delete = raw.try_execute("DELETE FROM audit_log").await;
    assert!(delete.unwrap_err().contains("append-only"));
    let records = store.audit(&AuditQuery::default()).await.unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].entry.actor, "system");
}

pub async fn a_token_beyond_its_owners_lowered_role_is_refused(store: &dyn Store, raw: &Raw) {
    let now = Timestamp::now();
    let owner = add_user(store, "lead", Role::Analyst).await;
    let (token, new) = new_token(&owner, "triage-bot", Role::Analyst, None);
    store.create_token(&new).await.unwrap();
    // No API lowers a role yet; do it behind the store's back.
    raw.execute("UPDATE users SET role = 'read_only' WHERE username = 'lead'")
        .await;
    assert_eq!(
        store.authenticate_token(&token.hash(), now).await.unwrap(),
        TokenCheck::RoleExceedsOwner
    );
}

pub async fn corrupt_account_rows_are_reported(store: &dyn Store, raw: &Raw) {
    add_user(store, "fine", Role::Analyst).await;
    raw.execute("UPDATE users SET role = 'superuser'").await;
    assert!(matches!(
        store.user("fine").await,
        Err(StoreError::Corrupt { table: "users", .. })
    ));
}
