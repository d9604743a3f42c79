//! `rampart admin`: accounts and API tokens, backups, restores and pruning. Every change is
//! written to the audit log as `cli:<os user>`.

use std::io::{BufRead, IsTerminal};

use anyhow::{Context as _, bail};
use clap::Subcommand;
use jiff::{SignedDuration, Timestamp};
use rampart_auth::{ApiToken, Role, Username, passwords};
use rampart_store::{AuditEntry, NewToken, NewUser, Store, TokenRecord};
use serde_json::json;

use crate::commands::accountable::{audited, cli_actor, parse_duration};
use crate::context::Context;
use crate::output::{self, Table, when};

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create an account. Its password is read from standard input (the first line), or asked
    /// for twice without echo on a terminal; it needs at least 12 characters.
    CreateUser {
        /// 1–64 characters of A-Z a-z 0-9 . _ @ -
        name: String,
        /// admin, analyst, read_only or ingest.
        #[arg(long)]
        role: Role,
    },
    /// List the accounts.
    Users,
    /// Disable an account: it cannot log in, its sessions end and its tokens are refused.
    DisableUser { name: String },
    /// Enable a disabled account again (its tokens work again; its sessions are gone).
    EnableUser { name: String },
    /// API tokens for tools and sensors.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Write a consistent copy of the store to a new FILE while `serve` runs (SQLite:
    /// VACUUM INTO; PostgreSQL: pg_dump custom format).
    Backup { file: std::path::PathBuf },
    /// Replace the store by a backup. Refuses a store that holds anything unless --force.
    Restore {
        file: std::path::PathBuf,
        /// Replace a store that is not empty.
        #[arg(long)]
        force: bool,
    },
    /// Delete alerts past `[retention] alerts` (serve does this hourly). The audit log is kept.
    Prune {
        /// Count what would be deleted, delete nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token and print it, once: only its hash is kept.
    Create {
        /// The account the token acts for.
        #[arg(long)]
        user: String,
        /// What the token is for (e.g. zeek-sensor-3).
        #[arg(long)]
        name: String,
        /// The token's role, within the user's (default: the user's role).
        #[arg(long)]
        role: Option<Role>,
        /// Lifetime, e.g. 30d, 12h, 2w (default: until revoked).
        #[arg(long, value_parser = parse_duration)]
        expires: Option<SignedDuration>,
    },
    /// List tokens (never the tokens themselves).
    List {
        /// Only this account's tokens.
        #[arg(long)]
        user: Option<String>,
    },
    /// Revoke a token for good, by id (see `token list`).
    Revoke { id: i64 },
}

pub async fn run(ctx: Context, command: AdminCommand) -> anyhow::Result<std::process::ExitCode> {
    // Upkeep takes the store as it is: writing the configured sources first would make an
    // empty restore target non-empty.
    let maintenance = match &command {
        AdminCommand::Backup { file } => Some(super::maintenance::backup(&ctx, file).await),
        AdminCommand::Restore { file, force } => {
            Some(super::maintenance::restore(&ctx, file, *force).await)
        }
        AdminCommand::Prune { dry_run } => {
            Some(super::maintenance::prune_command(&ctx, *dry_run).await)
        }
        _ => None,
    };
    if let Some(outcome) = maintenance {
        outcome?;
        return Ok(std::process::ExitCode::SUCCESS);
    }
    let store = ctx.store().await?;
    let store = &*store;
    match command {
        AdminCommand::CreateUser { name, role } => create_user(&ctx, store, &name, role).await?,
        AdminCommand::Users => list_users(&ctx, store).await?,
        AdminCommand::DisableUser { name } => set_disabled(store, &name, true).await?,
        AdminCommand::EnableUser { name } => set_disabled(store, &name, false).await?,
        AdminCommand::Token(TokenCommand::Create {
            user,
            name,
            role,
            expires,
        }) => create_token(&ctx, store, &user, &name, role, expires).await?,
        AdminCommand::Token(TokenCommand::List { user }) => {
            list_tokens(&ctx, store, user.as_deref()).await?
        }
        AdminCommand::Token(TokenCommand::Revoke { id }) => revoke_token(store, id).await?,
        AdminCommand::Backup { .. } | AdminCommand::Restore { .. } | AdminCommand::Prune { .. } => {
            unreachable!("handled above")
        }
    }
    Ok(std::process::ExitCode::SUCCESS)
}

async fn create_user(
    ctx: &Context,
    store: &dyn Store,
    name: &str,
    role: Role,
) -> anyhow::Result<()> {
    let entry = AuditEntry::new(cli_actor(), "user.create")
        .target(name)
        .detail(json!({ "role": role }));
    let created = async {
        let username = Username::parse(name)?;
        if store.user(name).await?.is_some() {
            bail!("user {name:?} already exists");
        }
        let prompt = format!("password for {name}");
        let password = tokio::task::spawn_blocking(move || read_password(&prompt)).await??;
        let password_hash =
            tokio::task::spawn_blocking(move || passwords::hash(&password)).await??;
        Ok(store
            .create_user(&NewUser {
                username,
                role,
                password_hash,
            })
            .await?)
    }
    .await;
    let user = audited(store, entry, created).await?;
    if ctx.json {
        output::json(&user)?;
    } else {
        println!("user {} created with role {}", user.username, user.role);
    }
    Ok(())
}

/// The new password: asked for twice without echo on a terminal, else the first line of
/// standard input (its line ending removed, nothing else). Checked against the policy.
fn read_password(prompt: &str) -> anyhow::Result<String> {
    let password = if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password(format!("{prompt}: "))
            .context("cannot read the password")?;
        passwords::check(&first)?;
        let again = rpassword::prompt_password(format!("{prompt} (again): "))
            .context("cannot read the password")?;
        if again != first {
            bail!("the two passwords differ");
        }
        first
    } else {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("cannot read the password from standard input")?;
        if line.is_empty() {
            bail!("no password on standard input: give it as the first line");
        }
        let end = line.trim_end_matches(['\n', '\r']).len();
        line.truncate(end);
        line
    };
    passwords::check(&password)?;
    Ok(password)
}

async fn list_users(ctx: &Context, store: &dyn Store) -> anyhow::Result<()> {
    let users = store.users().await?;
    if ctx.json {
        return output::json(&users);
    }
    let mut table = Table::new(vec!["name", "role", "state", "created", "last login"]);
    for user in users {
        table.row(vec![
            user.username.to_string(),
            user.role.to_string(),
            if user.disabled { "disabled" } else { "enabled" }.into(),
            when(Some(user.created)),
            when(user.last_login),
        ]);
    }
    table.print();
    Ok(())
}

async fn set_disabled(store: &dyn Store, name: &str, disabled: bool) -> anyhow::Result<()> {
    let action = if disabled {
        "user.disable"
    } else {
        "user.enable"
    };
    let entry = AuditEntry::new(cli_actor(), action).target(name);
    let changed = async {
        if !store.set_user_disabled(name, disabled).await? {
            bail!("unknown user {name:?}");
        }
        Ok(())
    }
    .await;
    audited(store, entry, changed).await?;
    println!(
        "user {name} {}",
        if disabled { "disabled" } else { "enabled" }
    );
    Ok(())
}

async fn create_token(
    ctx: &Context,
    store: &dyn Store,
    user: &str,
    name: &str,
    role: Option<Role>,
    lifetime: Option<SignedDuration>,
) -> anyhow::Result<()> {
    let mut entry = AuditEntry::new(cli_actor(), "token.create")
        .target(name)
        .detail(json!({ "user": user, "role": role }));
    let created = async {
        let Some(owner) = store.user(user).await? else {
            bail!("unknown user {user:?}");
        };
        let expires = lifetime
            .map(|lifetime| Timestamp::now().checked_add(lifetime))
            .transpose()
            .context("the expiry is out of range")?;
        let token = ApiToken::generate()?;
        let record = store
            .create_token(&NewToken {
                name: name.to_owned(),
                owner_id: owner.id,
                role: role.unwrap_or(owner.role),
                hash: token.hash(),
                expires,
            })
            .await?;
        Ok((token, record))
    }
    .await;
    if let Ok((_, record)) = &created {
        entry = entry.detail(json!({
            "id": record.id,
            "user": record.owner,
            "role": record.role,
            "expires": record.expires,
        }));
    }
    let (token, record) = audited(store, entry, created).await?;
    if ctx.json {
        let mut shown = serde_json::to_value(&record)?;
        shown["token"] = json!(token.expose());
        return output::json(&shown);
    }
    // The token alone on standard output, so that scripts can capture it.
    eprintln!(
        "token {} {:?} for {} (role {}, {}); it is shown only this once:",
        record.id,
        output::printable(&record.name),
        record.owner,
        record.role,
        match record.expires {
            Some(at) => format!("expires {}", when(Some(at))),
            None => "no expiry".into(),
        }
    );
    println!("{}", token.expose());
    Ok(())
}

async fn list_tokens(ctx: &Context, store: &dyn Store, user: Option<&str>) -> anyhow::Result<()> {
    let owner_id = match user {
        Some(name) => match store.user(name).await? {
            Some(owner) => Some(owner.id),
            None => bail!("unknown user {name:?}"),
        },
        None => None,
    };
    let tokens = store.tokens(owner_id).await?;
    if ctx.json {
        return output::json(&tokens);
    }
    let now = Timestamp::now();
    let mut table = Table::new(vec![
        "id",
        "name",
        "user",
        "role",
        "state",
        "created",
        "expires",
        "last used",
    ]);
    for token in tokens {
        table.row(vec![
            token.id.to_string(),
            token.name.clone(),
            token.owner.to_string(),
            token.role.to_string(),
            state(&token, now).into(),
            when(Some(token.created)),
            when(token.expires),
            when(token.last_used),
        ]);
    }
    table.print();
    Ok(())
}

fn state(token: &TokenRecord, now: Timestamp) -> &'static str {
    if token.revoked {
        "revoked"
    } else if token.expires.is_some_and(|expires| expires <= now) {
        "expired"
    } else {
        "active"
    }
}

async fn revoke_token(store: &dyn Store, id: i64) -> anyhow::Result<()> {
    let entry = AuditEntry::new(cli_actor(), "token.revoke").target(id.to_string());
    let revoked = async {
        if !store.revoke_token(id).await? {
            bail!("no token with id {id}");
        }
        Ok(())
    }
    .await;
    audited(store, entry, revoked).await?;
    println!("token {id} revoked");
    Ok(())
}
