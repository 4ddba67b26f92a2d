//! The lock-holder process of viofosync's tests (the store's and the
//! reliability suite's; driven through `viofo_testkit::LockHolder`): opens a
//! SQLite database, takes its write lock (`BEGIN IMMEDIATE`), prints
//! `locked`, holds it for the given milliseconds (or, with `until-eof`,
//! until its stdin ends), releases it and prints `released`.
//!
//! Usage: `viofo-lock-holder <db> <hold-ms | until-eof>`

use std::io::Write as _;
use std::time::Duration;

use sqlx::Connection as _;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqliteJournalMode};

const USAGE: &str = "usage: viofo-lock-holder <db> <hold-ms | until-eof>";

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(db), Some(hold), None) = (args.next(), args.next(), args.next()) else {
        return Err(USAGE.into());
    };
    let hold = match hold.as_str() {
        "until-eof" => None,
        ms => Some(Duration::from_millis(
            ms.parse().map_err(|e| format!("{USAGE}: {ms:?}: {e}"))?,
        )),
    };
    let opts = SqliteConnectOptions::new()
        .filename(&db)
        .journal_mode(SqliteJournalMode::Wal)
        .busy_timeout(Duration::from_secs(30));
    let mut conn = SqliteConnection::connect_with(&opts).await?;
    sqlx::raw_sql("BEGIN IMMEDIATE").execute(&mut conn).await?;
    say("locked");
    match hold {
        Some(d) => tokio::time::sleep(d).await,
        None => {
            tokio::task::spawn_blocking(|| {
                std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink())
            })
            .await??;
        }
    }
    sqlx::raw_sql("ROLLBACK").execute(&mut conn).await?;
    say("released");
    conn.close().await?;
    Ok(())
}
