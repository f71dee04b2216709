//! The subcommands that talk to a router, and what they share: connecting.

mod call;
mod publish;
mod register;
mod run_command;
mod session;
mod subscribe;
mod watch;

use crate::args::{Command, ConnectionArgs};
use crate::connection::Connection;
use crate::failure::Failure;
use crate::secrets::Process;
use crate::stop::{Live, Outcome, Stopper};
use izaber_wamp::{Client, ClientConfig};

/// What every command gets: the connection flags, and the means to end and to leave.
pub struct Context {
    pub connection: ConnectionArgs,
    pub verbose: u8,
    /// Ends a long-running command from a handler.
    pub stopper: Stopper,
    /// Where the joined client goes, so Ctrl-C can leave with a GOODBYE.
    pub live: Live,
}

impl Context {
    /// Connects and joins with the settings of izaber.yaml and the flags.
    pub fn connect(&self) -> Result<Client, Failure> {
        self.connect_with(|_| {})
    }

    /// Connects after `prepare` has had its say on the configuration (e.g. hooks that
    /// must see the first join).
    pub fn connect_with(&self, prepare: impl FnOnce(&mut ClientConfig)) -> Result<Client, Failure> {
        let connection = Connection::resolve(&self.connection, &Process)?;
        if self.verbose > 0 {
            eprintln!("wamp: {}", connection.describe());
        }
        let mut config = connection.client_config()?;
        prepare(&mut config);
        let client = Client::connect(config).map_err(Failure::connecting)?;
        if self.verbose > 0 {
            if let Some(session) = client.session_info() {
                eprintln!("wamp: joined as session {}", session.session_id);
            }
        }
        // Only one client per process: a second `set` cannot happen.
        let _ = self.live.set(client.clone());
        Ok(connection.for_commands(client))
    }
}

/// Runs a command that talks to a router.
pub fn run(command: Command, context: &Context) -> Result<Outcome, Failure> {
    match command {
        Command::Call(args) => call::run(&args, context),
        Command::Publish(args) => publish::run(&args, context),
        Command::Subscribe(args) => subscribe::run(&args, context),
        Command::Register(args) => register::run(args, context),
        Command::Session => session::run(context),
        Command::Keygen(_) | Command::Completions(_) => Err(Failure::usage(
            "keygen and completions need no router and run on their own",
        )),
    }
}
