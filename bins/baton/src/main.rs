//! `baton`: the server (`baton serve`) and its CLI.

mod cli;

use baton::{Config, FileConfig, Overrides, Server};
use clap::{CommandFactory, Parser, Subcommand};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "baton", version, about = "Self-hostable agent server")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve(ServeArgs),
    /// Manage agents.
    Agents {
        #[command(subcommand)]
        command: cli::agents::AgentsCommand,
        #[command(flatten)]
        connection: cli::Connection,
    },
    /// Run an agent on a message and print its answer.
    Run {
        #[command(flatten)]
        args: cli::run::RunArgs,
        #[command(flatten)]
        connection: cli::Connection,
    },
    /// List, show and cancel tasks.
    Tasks {
        #[command(subcommand)]
        command: cli::tasks::TasksCommand,
        #[command(flatten)]
        connection: cli::Connection,
    },
    /// Show traces.
    Traces {
        #[command(subcommand)]
        command: cli::traces::TracesCommand,
        #[command(flatten)]
        connection: cli::Connection,
    },
    /// Manage an agent's schedules.
    Schedules {
        #[command(subcommand)]
        command: cli::schedules::SchedulesCommand,
        #[command(flatten)]
        connection: cli::Connection,
    },
    /// Manage API keys (admin keys only).
    Keys {
        #[command(subcommand)]
        command: cli::keys::KeysCommand,
        #[command(flatten)]
        connection: cli::Connection,
    },
    /// Print a shell completion script.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

#[derive(clap::Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "BATON_LISTEN")]
    listen: Option<String>,
    /// Database URL: sqlite://path?mode=rwc or postgres://…
    #[arg(long, env = "DATABASE_URL")]
    database_url: Option<String>,
    /// Directory for the SQLite file and the generated secret key.
    #[arg(long, env = "BATON_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Configuration file (default: ./baton.toml if it exists).
    #[arg(long, env = "BATON_CONFIG")]
    config: Option<PathBuf>,
    /// Log as JSON lines instead of text.
    #[arg(long, env = "BATON_LOG_JSON")]
    log_json: bool,
}

fn init_logging(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn,sea_orm=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

#[allow(clippy::disallowed_methods)] // the CLI is the one place the environment is read
fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn parse_env<T: std::str::FromStr>(name: &str) -> Result<Option<T>, String> {
    env_var(name)
        .map(|v| {
            v.parse()
                .map_err(|_| format!("invalid {name}: `{v}` is not a number"))
        })
        .transpose()
}

/// The provider variables the configuration may use.
fn provider_env(file: &FileConfig) -> std::collections::BTreeMap<String, String> {
    let mut names: Vec<String> = baton::config::PROVIDER_VARIABLES
        .iter()
        .chain(&[
            // Where the code sandbox finds Python, and what stdio MCP servers get.
            "PATH",
            "HOME",
            "BATON_JWT_SECRET",
            "OTEL_EXPORTER_OTLP_ENDPOINT",
        ])
        .map(|name| (*name).to_owned())
        .collect();
    names.extend(
        file.providers
            .values()
            .filter_map(|p| p.api_key_env.clone()),
    );
    names.extend(file.auth.jwt_secret_env.clone());
    names
        .into_iter()
        .filter_map(|name| env_var(&name).map(|v| (name, v)))
        .collect()
}

async fn serve(args: ServeArgs) -> Result<(), String> {
    let file = match &args.config {
        Some(path) => FileConfig::load(path, true),
        None => FileConfig::load(std::path::Path::new("baton.toml"), false),
    }
    .map_err(|e| e.to_string())?;
    let over = Overrides {
        listen: args.listen,
        database_url: args.database_url,
        data_dir: args.data_dir,
        api_key: env_var("BATON_API_KEY"),
        secret_key: env_var("BATON_SECRET_KEY"),
        workers: parse_env("BATON_WORKERS")?,
        lease_ms: parse_env("BATON_LEASE_MS")?,
        poll_ms: parse_env("BATON_POLL_MS")?,
        env: provider_env(&file),
    };
    let config = Config::resolve(over, file).map_err(|e| e.to_string())?;
    let mut server = Server::start(config).await.map_err(|e| e.to_string())?;
    let mut out = std::io::stdout().lock();
    if let Some(key) = &server.created_admin_key {
        let _ = writeln!(
            out,
            "created an admin API key; it is shown only this once, store it now:\n  {key}"
        );
    }
    let _ = writeln!(out, "baton listening on {}", server.url());
    let _ = out.flush();
    drop(out);
    shutdown_signal().await;
    tracing::info!("shutting down");
    server.begin_shutdown();
    tokio::select! {
        stopped = server.wait() => stopped.map_err(|e| e.to_string()),
        () = shutdown_signal() => {
            tracing::warn!("a second signal: stopping without finishing the drain");
            Ok(())
        }
    }
}

/// Runs a client subcommand against a server: the API's answer on stdout, errors on stderr.
fn client_command(command: Command) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("baton: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let done = runtime.block_on(async move {
        match command {
            Command::Agents {
                command,
                connection,
            } => cli::agents::run(&cli::Client::new(&connection)?, command).await,
            Command::Run { args, connection } => {
                cli::run::run(&cli::Client::new(&connection)?, args).await
            }
            Command::Tasks {
                command,
                connection,
            } => cli::tasks::run(&cli::Client::new(&connection)?, command).await,
            Command::Traces {
                command,
                connection,
            } => cli::traces::run(&cli::Client::new(&connection)?, command).await,
            Command::Schedules {
                command,
                connection,
            } => cli::schedules::run(&cli::Client::new(&connection)?, command).await,
            Command::Keys {
                command,
                connection,
            } => cli::keys::run(&cli::Client::new(&connection)?, command).await,
            Command::Serve(_) | Command::Completions { .. } => Ok(()),
        }
    });
    match done {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("baton: {e}");
            ExitCode::FAILURE
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "baton", &mut std::io::stdout());
            ExitCode::SUCCESS
        }
        command @ (Command::Agents { .. }
        | Command::Run { .. }
        | Command::Tasks { .. }
        | Command::Traces { .. }
        | Command::Schedules { .. }
        | Command::Keys { .. }) => client_command(command),
        Command::Serve(args) => {
            init_logging(args.log_json);
            let runtime = match tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    eprintln!("baton: cannot start the runtime: {e}");
                    return ExitCode::FAILURE;
                }
            };
            let served = runtime.block_on(serve(args));
            // What is left runs nowhere now: leases of runs still in a step expire and other
            // servers resume them, as after a kill.
            runtime.shutdown_background();
            match served {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    tracing::error!("{e}");
                    eprintln!("baton: {e}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}
