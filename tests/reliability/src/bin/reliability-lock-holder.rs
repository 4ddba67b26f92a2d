//! Helper process of the reliability suite's `store_locked` scenario: opens
//! a SQLite database, takes its write lock (`BEGIN IMMEDIATE`), prints
//! `locked`, holds it for the given milliseconds, releases it and prints
//! `released`.
//!
//! Usage: `reliability-lock-holder <db> <hold-ms>`

use std::io::Write as _;
use std::time::Duration;

use sqlx::Connection as _;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqliteJournalMode};

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(db), Some(ms)) = (args.next(), args.next()) else {
        return Err("usage: reliability-lock-holder <db> <hold-ms>".into());
    };
    let hold = Duration::from_millis(ms.parse()?);
    let opts = SqliteConnectOptions::new()
        .filename(&db)
        .journal_mode(SqliteJournalMode::Wal)
        .busy_timeout(Duration::from_secs(30));
    let mut conn = SqliteConnection::connect_with(&opts).await?;
    sqlx::raw_sql("BEGIN IMMEDIATE").execute(&mut conn).await?;
    say("locked");
    tokio::time::sleep(hold).await;
    sqlx::raw_sql("ROLLBACK").execute(&mut conn).await?;
    say("released");
    conn.close().await?;
    Ok(())
}
