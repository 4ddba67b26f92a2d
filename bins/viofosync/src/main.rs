//! The `viofosync` command: argument parsing and wiring only.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use clap::Parser;

/// Keep a Viofo dashcam's recordings safe.
#[derive(Debug, Parser)]
#[command(name = "viofosync", version, about)]
struct Cli {}

fn main() -> anyhow::Result<()> {
    let _cli = Cli::parse();
    Ok(())
}
