//! The real `rampart` binary managing accounts, API tokens and the audit log; the tokens it
//! prints are then checked against the store it wrote, as the server will check them.

mod support;

use rampart_auth::{ApiToken, Role, passwords};
use rampart_store::TokenCheck;
use support::{Rampart, json};

const PASSWORD: &str = "correct horse battery staple";

/// Runs `work` against the store the binary wrote.
fn with_store<T>(rampart: &Rampart, work: impl AsyncFnOnce(&dyn rampart_store::Store) -> T) -> T {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let store = rampart_store::open(&rampart.store_url()).await.unwrap();
        work(&*store).await
    })
}

/// What the store says about a presented token.
fn check_token(rampart: &Rampart, token: &str) -> TokenCheck {
    let hash = ApiToken::hash_presented(token).unwrap();
    with_store(rampart, async |store| {
        store
            .authenticate_token(&hash, jiff::Timestamp::now())
            .await
            .unwrap()
    })
}

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn users_tokens_and_the_audit_log_from_the_cli() {
    let rampart = Rampart::new();

    // A password comes from standard input; short ones are refused and nothing is created.
    let short = rampart.run_with_input(
        &["admin", "create-user", "alice", "--role", "admin"],
        "too short\n",
    );
    assert!(!short.status.success());
    assert!(
        stderr(&short).contains("at least 12 characters"),
        "{}",
        stderr(&short)
    );
    let created = rampart.run_with_input(
        &["admin", "create-user", "alice", "--role", "admin"],
        &format!("{PASSWORD}\n"),
    );
    assert!(created.status.success(), "{}", stderr(&created));
    let again = rampart.run_with_input(
        &["admin", "create-user", "Alice", "--role", "analyst"],
        &format!("{PASSWORD}\n"),
    );
    assert!(
        stderr(&again).contains("already exists"),
        "{}",
        stderr(&again)
    );
    let no_password =
        rampart.run_with_input(&["admin", "create-user", "bob", "--role", "analyst"], "");
    assert!(
        stderr(&no_password).contains("no password"),
        "{}",
        stderr(&no_password)
    );

    let users = json(&rampart.ok(&["--json", "admin", "users"]));
    let users = users.as_array().unwrap();
    assert_eq!(users.len(), 1);
    assert_eq!(users[0]["username"], "alice");
    assert_eq!(users[0]["role"], "admin");
    assert_eq!(users[0]["disabled"], false);
    assert!(users[0].get("password_hash").is_none(), "{users:?}");
    // The password line was stored as an argon2id hash of the password without its newline.
    let stored = with_store(&rampart, async |store| {
        store.user("alice").await.unwrap().unwrap().password_hash
    });
    assert!(stored.starts_with("$argon2id$"), "{stored}");
    assert!(passwords::verify(PASSWORD, &stored).unwrap());
    assert!(!passwords::verify(&format!("{PASSWORD}\n"), &stored).unwrap());

    // A token is printed once, alone on standard output, and the store accepts it.
    let token = rampart.ok(&[
        "admin",
        "token",
        "create",
        "--user",
        "alice",
        "--name",
        "zeek-1",
        "--role",
        "ingest",
        "--expires",
        "30d",
    ]);
    let token = token.trim_end();
    assert!(token.starts_with("rmp_") && token.len() == 47, "{token:?}");
    let TokenCheck::Valid(record) = check_token(&rampart, token) else {
        panic!("the printed token is not accepted");
    };
    assert_eq!(record.role, Role::Ingest);
    assert_eq!(record.owner.as_str(), "alice");
    // Thirty days from when the command ran, a moment before the row was written.
    let lifetime = (record.expires.unwrap() - record.created).as_secs();
    assert!(
        (30 * 86_400 - 10..=30 * 86_400).contains(&lifetime),
        "{lifetime}"
    );

    let listed = json(&rampart.ok(&["--json", "admin", "token", "list"]));
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["name"], "zeek-1");
    assert_eq!(listed[0]["revoked"], false);
    assert!(!listed.to_string().contains(token));
    let table = rampart.ok(&["admin", "token", "list", "--user", "alice"]);
    assert!(
        table.contains("zeek-1") && table.contains("active"),
        "{table}"
    );

    let id = listed[0]["id"].as_i64().unwrap().to_string();
    rampart.ok(&["admin", "token", "revoke", &id]);
    assert_eq!(check_token(&rampart, token), TokenCheck::Revoked);
    let listed = json(&rampart.ok(&["--json", "admin", "token", "list"]));
    assert_eq!(listed[0]["revoked"], true);
    let missing = rampart.run(&["admin", "token", "revoke", "999"]);
    assert!(stderr(&missing).contains("no token with id 999"));

    // Disabling the owner stops its other tokens and refuses new ones.
    let other = rampart.ok(&[
        "admin", "token", "create", "--user", "alice", "--name", "ci",
    ]);
    assert!(matches!(
        check_token(&rampart, other.trim_end()),
        TokenCheck::Valid(_)
    ));
    rampart.ok(&["admin", "disable-user", "alice"]);
    assert_eq!(
        check_token(&rampart, other.trim_end()),
        TokenCheck::OwnerDisabled
    );
    let refused = rampart.run(&[
        "admin", "token", "create", "--user", "alice", "--name", "late",
    ]);
    assert!(
        stderr(&refused).contains("disabled"),
        "{}",
        stderr(&refused)
    );

    // Every action, failed ones included, is in the audit log, newest first.
    let audit = json(&rampart.ok(&["--json", "audit"]));
    let lines: Vec<(String, String, String)> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|line| {
            assert!(
                line["actor"].as_str().unwrap().starts_with("cli:"),
                "{line}"
            );
            (
                line["action"].as_str().unwrap().to_owned(),
                line["target"].as_str().unwrap_or_default().to_owned(),
                line["outcome"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected = [
        ("token.create", "late", "failure"),
        ("user.disable", "alice", "success"),
        ("token.create", "ci", "success"),
        ("token.revoke", "999", "failure"),
        ("token.revoke", id.as_str(), "success"),
        ("token.create", "zeek-1", "success"),
        ("user.create", "bob", "failure"),
        ("user.create", "Alice", "failure"),
        ("user.create", "alice", "success"),
        ("user.create", "alice", "failure"),
    ];
    let expected: Vec<(String, String, String)> = expected
        .iter()
        .map(|(a, t, o)| (a.to_string(), t.to_string(), o.to_string()))
        .collect();
    assert_eq!(lines, expected);
    assert!(
        !audit.to_string().contains(token),
        "a token leaked into the audit log"
    );
    assert!(
        !audit.to_string().contains(PASSWORD),
        "a password leaked into the audit log"
    );

    let revokes = json(&rampart.ok(&["--json", "audit", "--action", "token.revoke"]));
    assert_eq!(revokes.as_array().unwrap().len(), 2);
    let page = json(&rampart.ok(&["--json", "audit", "--limit", "2", "--offset", "1"]));
    assert_eq!(page[0]["action"], "user.disable");
    assert_eq!(page[1]["target"], "ci");
    let text = rampart.ok(&["audit", "--action", "user.create", "--since", "1h"]);
    assert!(text.contains("at least 12 characters"), "{text}");
    assert!(rampart.ok(&["--json", "audit", "--until", "1h"]).trim() == "[]");

    // The export is JSON lines, oldest first, and is itself recorded.
    let file = rampart.dir.path().join("audit.jsonl");
    rampart.ok(&["audit", "export", "--output", file.to_str().unwrap()]);
    let exported = std::fs::read_to_string(&file).unwrap();
    let exported: Vec<serde_json::Value> = exported.lines().map(json).collect();
    assert_eq!(exported.len(), 10);
    assert_eq!(exported[0]["action"], "user.create");
    assert_eq!(exported[0]["outcome"], "failure");
    assert_eq!(exported[9]["target"], "late");
    let recorded = json(&rampart.ok(&["--json", "audit", "--action", "audit.export"]));
    assert_eq!(recorded.as_array().unwrap().len(), 1);
    let filtered = rampart.ok(&[
        "audit",
        "export",
        "--output",
        "-",
        "--action",
        "token.create",
    ]);
    assert_eq!(filtered.lines().count(), 3);
}

#[test]
fn bad_account_input_is_refused_clearly() {
    let rampart = Rampart::new();
    let output = rampart.run_with_input(
        &["admin", "create-user", "no spaces", "--role", "admin"],
        &format!("{PASSWORD}\n"),
    );
    assert!(
        stderr(&output).contains("invalid username"),
        "{}",
        stderr(&output)
    );
    let output = rampart.run(&["admin", "create-user", "carol", "--role", "root"]);
    assert!(
        stderr(&output).contains("unknown role"),
        "{}",
        stderr(&output)
    );
    let output = rampart.run(&[
        "admin",
        "token",
        "create",
        "--user",
        "carol",
        "--name",
        "x",
        "--expires",
        "soon",
    ]);
    assert!(
        stderr(&output).contains("whole number"),
        "{}",
        stderr(&output)
    );
    let output = rampart.run(&[
        "admin", "token", "create", "--user", "nobody", "--name", "x",
    ]);
    assert!(
        stderr(&output).contains("unknown user \"nobody\""),
        "{}",
        stderr(&output)
    );
    let output = rampart.run(&["admin", "disable-user", "nobody"]);
    assert!(
        stderr(&output).contains("unknown user"),
        "{}",
        stderr(&output)
    );
    let output = rampart.run(&["audit", "--since", "last tuesday"]);
    assert!(!output.status.success());
    assert!(stderr(&output).contains("RFC 3339"), "{}", stderr(&output));
    // A read-only user cannot hand out an ingest token: roles are not a ladder.
    rampart.run_with_input(
        &["admin", "create-user", "reader", "--role", "read_only"],
        &format!("{PASSWORD}\n"),
    );
    let output = rampart.run(&[
        "admin", "token", "create", "--user", "reader", "--name", "x", "--role", "ingest",
    ]);
    assert!(
        stderr(&output).contains("exceeds the role"),
        "{}",
        stderr(&output)
    );
}
