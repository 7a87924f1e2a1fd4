//! `zonecast --config FILE`: parse the command line, set up logging, run;
//! `zonecast check --config FILE`: check the configuration and its zone
//! files, and exit.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

/// An authoritative secondary DNS server for anycast nodes.
#[derive(Parser)]
#[command(version, args_conflicts_with_subcommands = true)]
struct Args {
    /// Configuration file (TOML): runs the server.
    #[arg(short, long)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Cmd>,
}

#[derive(Subcommand)]
enum Cmd {
    /// Reads the configuration and every zone file it names, reports
    /// every problem, and exits (0: none, 2: some); starts nothing.
    Check {
        /// Configuration file (TOML).
        #[arg(short, long)]
        config: PathBuf,
    },
}

fn main() -> ExitCode {
    let args = Args::parse();
    let path = match (args.command, args.config) {
        (Some(Cmd::Check { config }), _) => return check(&config),
        (None, Some(path)) => path,
        (None, None) => {
            eprintln!("zonecast: a configuration is needed: zonecast --config FILE (see --help)");
            return ExitCode::from(2);
        }
    };
    let args = Run { config: path };
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

/// What running the server takes.
struct Run {
    config: PathBuf,
}

/// `zonecast check`: problems and warnings on standard error, one line
/// each, then the summary.
fn check(path: &std::path::Path) -> ExitCode {
    let f = zonecast::check::check(path);
    for p in &f.problems {
        eprintln!("error: {p}");
    }
    for w in &f.warnings {
        eprintln!("warning: {w}");
    }
    if f.ok() {
        println!("{}: OK", f.summary);
        ExitCode::SUCCESS
    } else {
        println!("{}: {} problems", f.summary, f.problems.len());
        ExitCode::from(2)
    }
}
