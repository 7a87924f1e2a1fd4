//! `zonecast --config FILE`: parse the command line, set up logging, run.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

/// An authoritative secondary DNS server for anycast nodes.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// Configuration file (TOML).
    #[arg(short, long)]
    config: PathBuf,
}

fn main() -> ExitCode {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let config = match zonecast::config::Config::load(&args.config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("zonecast: {e}");
            return ExitCode::from(2);
        }
    };
    match zonecast::daemon::run(config, &args.config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("zonecast: {e}");
            ExitCode::FAILURE
        }
    }
}
