//! `wamp`: WAMP calls, publications, subscriptions and registrations from the shell,
//! configured by izaber.yaml as the izaber-wamp library reads it.
//!
//! * `args.rs`: the command line (clap).
//! * `connection.rs`, `secrets.rs`: izaber.yaml, the flags over it, passwords and keys.
//! * `stop.rs`: running a command until it ends, Ctrl-C or `--duration`; the GOODBYE.
//! * `commands/`: call, publish, subscribe, register, session.
//! * `input.rs`, `json.rs`, `output.rs`: arguments in, JSON and text out.
//! * `failure.rs`: exit codes and the one-line error messages.
//! * `keygen.rs`: cryptosign key pairs (offline).
#![forbid(unsafe_code)]

mod args;
mod commands;
mod connection;
mod failure;
mod input;
mod json;
mod keygen;
mod logger;
mod output;
mod secrets;
mod stop;

use args::{Cli, Command};
use clap::{CommandFactory, Parser};
use failure::Failure;
use std::process::ExitCode;

fn main() -> ExitCode {
    // Usage errors exit with 2, --help and --version with 0.
    let cli = Cli::parse();
    logger::init(cli.verbose);
    let code = match cli.command {
        Command::Keygen(keygen) => {
            let authid = cli.connection.authid.as_deref().unwrap_or("alice");
            finish(
                keygen::run(&keygen, authid, &mut std::io::stdout().lock()),
                cli.verbose,
            )
        }
        Command::Completions(completions) => {
            let mut command = Cli::command();
            clap_complete::generate(
                completions.shell,
                &mut command,
                "wamp",
                &mut std::io::stdout(),
            );
            0
        }
        command => {
            let runs_until_stopped = command.runs_until_stopped();
            let (connection, verbose) = (cli.connection, cli.verbose);
            stop::supervise(runs_until_stopped, verbose, move |stopper, live| {
                let context = commands::Context {
                    connection,
                    verbose,
                    stopper,
                    live,
                };
                commands::run(command, &context)
            })
        }
    };
    ExitCode::from(code)
}

/// The exit code of a command that needs no router.
fn finish(result: Result<(), Failure>, verbose: u8) -> u8 {
    match result {
        Ok(()) => 0,
        Err(failure) => {
            report(&failure, verbose);
            failure.exit_code()
        }
    }
}

/// Prints a failure as one line on stderr, and with `-v` its detail.
pub fn report(failure: &Failure, verbose: u8) {
    eprintln!("wamp: error: {}", failure.message());
    if verbose > 0 {
        if let Some(detail) = failure.detail() {
            eprintln!("wamp: detail: {detail}");
        }
    }
}
