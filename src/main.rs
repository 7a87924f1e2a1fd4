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
    /// Log lines as plain text, or as JSON objects one per line (for a
    /// log shipper).
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Option<Cmd>,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
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
    /// Asks the running server, over its control socket: status,
    /// zone-status [ZONE], refresh ZONE|--all, retransfer ZONE, reload.
    /// Exits 1 when the request cannot be done, saying why.
    Ctl {
        /// The server's configuration, to find its `[server] control`.
        #[arg(short, long)]
        config: Option<PathBuf>,
        /// The control socket itself.
        #[arg(short, long)]
        socket: Option<PathBuf>,
        /// The answer as JSON, for scripts.
        #[arg(long)]
        json: bool,
        /// The command and its arguments.
        #[arg(required = true, allow_hyphen_values = true, trailing_var_arg = true)]
        command: Vec<String>,
    },
}

fn main() -> ExitCode {
    let args = Args::parse();
    let log_format = args.log_format;
    let path = match (args.command, args.config) {
        (Some(Cmd::Check { config }), _) => return check(&config),
        (
            Some(Cmd::Ctl {
                config,
                socket,
                json,
                command,
            }),
            _,
        ) => return ctl(config, socket, json, &command),
        (None, Some(path)) => path,
        (None, None) => {
            eprintln!("zonecast: a configuration is needed: zonecast --config FILE (see --help)");
            return ExitCode::from(2);
        }
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    match log_format {
        LogFormat::Json => logs.json().init(),
        LogFormat::Text => logs.with_ansi(std::io::stderr().is_terminal()).init(),
    }
    let config = match zonecast::config::Config::load(&path) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("zonecast: {e}");
            return ExitCode::from(2);
        }
    };
    match zonecast::daemon::run(config, &path) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("zonecast: {e}");
            ExitCode::FAILURE
        }
    }
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

/// `zonecast ctl`: one request to the control socket, its answer printed.
fn ctl(config: Option<PathBuf>, socket: Option<PathBuf>, json: bool, words: &[String]) -> ExitCode {
    let socket = match (socket, config) {
        (Some(s), _) => s,
        (None, Some(c)) => match zonecast::config::Config::load(&c) {
            Ok(cfg) => match cfg.control {
                Some(s) => s,
                None => {
                    eprintln!(
                        "zonecast ctl: {} sets no [server] control socket",
                        c.display()
                    );
                    return ExitCode::from(2);
                }
            },
            Err(e) => {
                eprintln!("zonecast ctl: {e}");
                return ExitCode::from(2);
            }
        },
        (None, None) => {
            eprintln!("zonecast ctl: name the server's configuration (-c) or its socket (-s)");
            return ExitCode::from(2);
        }
    };
    let answer = match zonecast::control::request(&socket, words) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("zonecast ctl: cannot ask {}: {e}", socket.display());
            return ExitCode::FAILURE;
        }
    };
    if json {
        println!("{answer}");
    } else if let Some(e) = answer.get("error").and_then(|e| e.as_str()) {
        eprintln!("zonecast ctl: {e}");
    } else {
        print!("{}", zonecast::control::human(&answer));
    }
    // An error, or `health` saying unhealthy: exit 1 (a health check
    // reads the exit code).
    if answer.get("error").is_some()
        || answer.get("healthy") == Some(&serde_json::Value::Bool(false))
    {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
