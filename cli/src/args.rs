//! The command line, as clap declares it: global connection flags, the subcommands and
//! their help (each with an example).

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::time::Duration;

/// The text after every subcommand's own help: where the connection comes from and
/// what the exit codes mean.
const CONNECTION_HELP: &str = "\
The connection comes from izaber.yaml (./izaber.yaml, ~/izaber.yaml,
~/.local/share/ZaberConfig/izaber.yaml, else the IZABER_YAML variable), environment
--environment or IZABER_ENVIRONMENT, with flags over it. Without any izaber.yaml,
--url is enough. Secrets come only from izaber.yaml, WAMP_PASSWORD, WAMP_PRIVATE_KEY
(a hex seed) or a prompt, never from a flag.

Exit codes: 0 success, 1 the router or callee answered with an error, 2 usage or
configuration error, 3 could not connect or authenticate (or lost the connection for
good), 4 timeout, 130 interrupted (Ctrl-C or SIGTERM during call, publish or session).";

/// WAMP from the shell: call, publish, subscribe and register, configured by izaber.yaml.
#[derive(Debug, Parser)]
#[command(
    name = "wamp",
    version,
    after_help = CONNECTION_HELP,
    after_long_help = CONNECTION_HELP,
    propagate_version = true,
    args_override_self = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// More detail on stderr: the connection used, the library's log, full errors
    /// (-vv, -vvv: more).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

/// Where and how to connect: izaber.yaml, overridden by these flags.
#[derive(Debug, Args, Clone, Default)]
#[command(next_help_heading = "Connection (overrides izaber.yaml)")]
pub struct ConnectionArgs {
    /// The izaber.yaml to read instead of searching for one.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The izaber.yaml environment to use (default: IZABER_ENVIRONMENT, else `default`).
    #[arg(short, long, global = true, value_name = "NAME")]
    pub environment: Option<String>,
    /// Router URL: ws://, wss://, tcpip://, tcpips:// or unix://.
    #[arg(long, global = true)]
    pub url: Option<String>,
    /// Realm to join.
    #[arg(long, global = true)]
    pub realm: Option<String>,
    /// User (authid) to log in as. A password in izaber.yaml for another user is not
    /// used for this one.
    #[arg(long, visible_alias = "user", global = true, value_name = "AUTHID")]
    pub authid: Option<String>,
    /// Authentication method to offer (repeat or separate with commas, most preferred
    /// first).
    #[arg(long, global = true, value_delimiter = ',', value_name = "METHOD")]
    pub authmethod: Vec<AuthMethod>,
    /// The one serializer to offer.
    #[arg(long, global = true)]
    pub serializer: Option<SerializerName>,
    /// Cryptosign private key file (hex seed or OpenSSH ed25519); implies
    /// `--authmethod cryptosign` unless --authmethod is given.
    #[arg(long, global = true, value_name = "FILE")]
    pub private_key_file: Option<PathBuf>,
    /// Extra CA certificate (PEM) to trust for wss:// and tcpips://.
    #[arg(long, global = true, value_name = "FILE")]
    pub ca_file: Option<PathBuf>,
    /// Timeout of each request, in seconds.
    #[arg(long, global = true, value_name = "SECONDS", value_parser = seconds)]
    pub timeout: Option<Duration>,
    /// How long connecting and joining may take, in seconds.
    #[arg(long, global = true, value_name = "SECONDS", value_parser = seconds)]
    pub connect_timeout: Option<Duration>,
    /// Put izaber.yaml's `uri_base` (default com.izaber.wamp) and a dot in front of
    /// every URI given, as Python izaber-wamp does.
    #[arg(long, global = true)]
    pub prefix: bool,
}

/// The authentication methods izaber.yaml knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuthMethod {
    /// A password sent as is (TLS recommended).
    Ticket,
    /// A password never sent: an HMAC of the router's challenge.
    Wampcra,
    /// An Ed25519 key pair (see `wamp keygen`).
    Cryptosign,
    /// No credentials.
    Anonymous,
}

impl AuthMethod {
    /// The name izaber.yaml uses.
    pub fn name(self) -> &'static str {
        match self {
            AuthMethod::Ticket => "ticket",
            AuthMethod::Wampcra => "wampcra",
            AuthMethod::Cryptosign => "cryptosign",
            AuthMethod::Anonymous => "anonymous",
        }
    }
}

/// The serializers izaber-wamp speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SerializerName {
    Json,
    Msgpack,
    Cbor,
}

impl SerializerName {
    /// The library's serializer of this name.
    pub fn serializer(self) -> izaber_wamp::Serializer {
        match self {
            SerializerName::Json => izaber_wamp::Serializer::Json,
            SerializerName::Msgpack => izaber_wamp::Serializer::MsgPack,
            SerializerName::Cbor => izaber_wamp::Serializer::Cbor,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Call a procedure and print its result.
    #[command(after_help = CALL_EXAMPLES, after_long_help = CALL_EXAMPLES)]
    Call(CallArgs),
    /// Publish an event.
    #[command(after_help = PUBLISH_EXAMPLES, after_long_help = PUBLISH_EXAMPLES)]
    Publish(PublishArgs),
    /// Print one JSON line per event.
    #[command(after_help = SUBSCRIBE_EXAMPLES, after_long_help = SUBSCRIBE_EXAMPLES)]
    Subscribe(SubscribeArgs),
    /// Answer calls by running a command (or echo the arguments back).
    #[command(after_help = REGISTER_EXAMPLES, after_long_help = REGISTER_EXAMPLES)]
    Register(RegisterArgs),
    /// Join, print the session (id, authid, authrole, authmethod, router roles), leave.
    #[command(after_help = SESSION_EXAMPLES, after_long_help = SESSION_EXAMPLES)]
    Session,
    /// Make a cryptosign key pair, or show the public key of one.
    #[command(after_help = KEYGEN_EXAMPLES, after_long_help = KEYGEN_EXAMPLES)]
    Keygen(KeygenArgs),
    /// Print a shell completion script.
    #[command(after_help = COMPLETIONS_EXAMPLES, after_long_help = COMPLETIONS_EXAMPLES)]
    Completions(CompletionsArgs),
}

impl Command {
    /// Whether the command runs until stopped, so Ctrl-C is its normal end (exit 0)
    /// rather than an interruption (exit 130).
    pub fn runs_until_stopped(&self) -> bool {
        matches!(self, Command::Subscribe(_) | Command::Register(_))
    }
}

const CALL_EXAMPLES: &str = "\
Examples:
  wamp call com.example.add 2 3                 # prints 5
  wamp call com.example.greet Ada -k greeting=Hi
  wamp call com.example.store @record.json --output raw
  wamp --prefix call auth.whoami                # calls com.izaber.wamp.auth.whoami

Each ARG and VALUE is JSON when it parses as JSON, else a string: 2 is a number,
Ada a string, '\"2\"' the string 2, '{\"a\":[1]}' an object. @FILE reads the value
from a file (bytes when it is not UTF-8), - from stdin.

Output: a single positional result alone as JSON, else {\"args\": [...], \"kwargs\": {...}}.";

const PUBLISH_EXAMPLES: &str = "\
Examples:
  wamp publish com.example.news 'Hello world' -k priority=1
  wamp publish com.example.tick --repeat 10 --interval 0.5 --acknowledge

Each ARG and VALUE is JSON when it parses as JSON, else a string; @FILE reads the
value from a file, - from stdin. With --acknowledge, prints each publication ID.";

const SUBSCRIBE_EXAMPLES: &str = "\
Examples:
  wamp subscribe com.example.news
  wamp subscribe com.example --match prefix --count 1 | jq .args

Each event is one JSON line: {\"topic\", \"args\", \"kwargs\"} and, when the router
discloses them, \"publisher\", \"publisher_authid\", \"publisher_authrole\". Runs until
--count, --duration or Ctrl-C; reconnects and resubscribes after a router restart.";

const REGISTER_EXAMPLES: &str = "\
Examples:
  wamp register com.example.date -- date -Iseconds
  wamp register com.example.sum --concurrency 4 -- python3 -c \\
      'import json,sys; print(sum(json.load(sys.stdin)[\"args\"]))'
  wamp register com.example.echo --times 1       # echo the arguments back, once

The command gets the invocation on stdin as JSON ({\"procedure\", \"args\", \"kwargs\",
and \"caller\", \"caller_authid\", \"caller_authrole\" when disclosed), and the
arguments in WAMP_ARGS and WAMP_KWARGS (JSON; also WAMP_ARGS_JSON, WAMP_KWARGS_JSON)
and WAMP_PROCEDURE. Its stdout is the result: JSON when it parses, else a string,
nothing when empty. A non-zero exit answers with an ERROR (--error-uri) carrying its
stderr and {\"exit_code\": N}.";

const SESSION_EXAMPLES: &str = "\
Examples:
  wamp session
  wamp --environment dev --user alice session | jq .authrole";

const KEYGEN_EXAMPLES: &str = "\
Examples:
  wamp keygen ~/.config/wamp.key --authid alice
  wamp keygen --show ~/.ssh/id_ed25519

Writes the private seed (64 hex characters) to a new file readable by you alone and
prints the public key, with the snippets for a Crossbar.io config and izaber.yaml
(for --authid, default alice). Needs no router.";

const COMPLETIONS_EXAMPLES: &str = "\
Examples:
  wamp completions bash > ~/.local/share/bash-completion/completions/wamp
  wamp completions zsh > ~/.zfunc/_wamp
  wamp completions fish > ~/.config/fish/completions/wamp.fish";

/// Positional and keyword arguments of a call or publication.
#[derive(Debug, Args)]
pub struct PayloadArgs {
    /// Positional arguments: JSON, else a string; @FILE or - (stdin).
    #[arg(allow_negative_numbers = true, value_name = "ARG")]
    pub args: Vec<String>,
    /// A keyword argument; VALUE as ARG.
    #[arg(short, long = "keyword", value_name = "KEY=VALUE")]
    pub kwargs: Vec<String>,
}

#[derive(Debug, Args)]
pub struct CallArgs {
    /// The procedure to call.
    pub uri: String,
    #[command(flatten)]
    pub payload: PayloadArgs,
    /// How to print the result: json (a single result alone, else {"args", "kwargs"}),
    /// raw (a string or binary result as is, else as json), lines (one result per line:
    /// a single list result one item per line, then each keyword as KEY=VALUE).
    #[arg(short, long, value_enum, default_value_t = OutputFormat::Json)]
    pub output: OutputFormat,
    /// Ask for progressive results and print each as it arrives, one JSON line each
    /// (as --output json prints a result), then the final result in the --output
    /// format.
    #[arg(long)]
    pub progress: bool,
}

/// How `wamp call` prints its result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Json,
    Raw,
    Lines,
}

#[derive(Debug, Args)]
pub struct PublishArgs {
    /// The topic to publish to.
    pub topic: String,
    #[command(flatten)]
    pub payload: PayloadArgs,
    /// Wait for the router to confirm each publication, and print its ID.
    #[arg(long)]
    pub acknowledge: bool,
    /// Whether to leave out our own subscriptions (router default: true).
    #[arg(long, value_name = "BOOL", action = clap::ArgAction::Set)]
    pub exclude_me: Option<bool>,
    /// Ask the router to keep the event for later subscribers.
    #[arg(long)]
    pub retain: bool,
    /// Publish this many times.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub repeat: u64,
    /// Seconds between repeated publications.
    #[arg(long, value_name = "SECONDS", value_parser = seconds_or_zero, default_value = "0")]
    pub interval: Duration,
}

/// How a subscription or registration URI is matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Match {
    Exact,
    Prefix,
    Wildcard,
}

impl Match {
    /// The library's match policy.
    pub fn policy(self) -> izaber_wamp::MatchPolicy {
        match self {
            Match::Exact => izaber_wamp::MatchPolicy::Exact,
            Match::Prefix => izaber_wamp::MatchPolicy::Prefix,
            Match::Wildcard => izaber_wamp::MatchPolicy::Wildcard,
        }
    }
}

#[derive(Debug, Args)]
pub struct SubscribeArgs {
    /// The topic (or pattern, with --match).
    pub topic: String,
    /// How the topic is matched.
    #[arg(long = "match", value_enum, value_name = "POLICY", default_value_t = Match::Exact)]
    pub match_policy: Match,
    /// Exit after this many events.
    #[arg(long, value_name = "N")]
    pub count: Option<u64>,
    /// Exit after this many seconds.
    #[arg(long, value_name = "SECONDS", value_parser = seconds)]
    pub duration: Option<Duration>,
    /// Also get the topic's retained event, if the router kept one.
    #[arg(long)]
    pub get_retained: bool,
}

/// How the router picks among several sessions registering one procedure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Invoke {
    Single,
    Roundrobin,
    Random,
    First,
    Last,
}

impl Invoke {
    /// The library's invocation policy.
    pub fn policy(self) -> izaber_wamp::InvokePolicy {
        match self {
            Invoke::Single => izaber_wamp::InvokePolicy::Single,
            Invoke::Roundrobin => izaber_wamp::InvokePolicy::RoundRobin,
            Invoke::Random => izaber_wamp::InvokePolicy::Random,
            Invoke::First => izaber_wamp::InvokePolicy::First,
            Invoke::Last => izaber_wamp::InvokePolicy::Last,
        }
    }
}

#[derive(Debug, Args)]
pub struct RegisterArgs {
    /// The procedure (or pattern, with --match).
    pub uri: String,
    /// How the procedure is matched.
    #[arg(long = "match", value_enum, value_name = "POLICY", default_value_t = Match::Exact)]
    pub match_policy: Match,
    /// How the router shares the procedure with other sessions registering it.
    #[arg(long, value_enum)]
    pub invoke: Option<Invoke>,
    /// Most commands running at once; further calls wait for a free slot.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub concurrency: u32,
    /// Exit after answering this many calls.
    #[arg(long, value_name = "N")]
    pub times: Option<u64>,
    /// The error URI of a failed command's answer.
    #[arg(long, value_name = "URI", default_value = "wamp.error.runtime_error")]
    pub error_uri: String,
    /// The command to run for each call, and its arguments; without one, the call's
    /// arguments are echoed back.
    #[arg(last = true, value_name = "COMMAND")]
    pub command: Vec<String>,
}

#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// Where to write the new key (must not exist), or with --show the key to read.
    pub path: PathBuf,
    /// Show the public key of an existing key file instead of making one.
    #[arg(long)]
    pub show: bool,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    pub shell: clap_complete::Shell,
}

/// Seconds as a positive number (fractions allowed).
fn seconds(text: &str) -> Result<Duration, String> {
    match seconds_or_zero(text)? {
        d if d.is_zero() => Err("must be more than 0 seconds".into()),
        d => Ok(d),
    }
}

/// Seconds as a number, zero included.
fn seconds_or_zero(text: &str) -> Result<Duration, String> {
    let secs: f64 = text
        .parse()
        .map_err(|_| format!("expected a number of seconds, found {text:?}"))?;
    if secs < 0.0 {
        return Err("must not be negative".into());
    }
    Duration::try_from_secs_f64(secs).map_err(|_| format!("{text} seconds is out of range"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn seconds_take_fractions_and_refuse_nonsense() {
        assert_eq!(seconds("0.25"), Ok(Duration::from_millis(250)));
        assert!(seconds("0").is_err());
        assert_eq!(seconds_or_zero("0"), Ok(Duration::ZERO));
        assert!(seconds("-1").is_err());
        assert!(seconds("soon").is_err());
        assert!(seconds("1e300").is_err());
    }

    #[test]
    fn negative_numbers_are_arguments_not_flags() {
        let cli =
            Cli::try_parse_from(["wamp", "call", "com.example.add", "-1", "2"]).expect("parses");
        let Command::Call(call) = cli.command else {
            panic!("not a call")
        };
        assert_eq!(call.payload.args, ["-1", "2"]);
    }

    #[test]
    fn a_repeated_flag_takes_its_last_value_and_lists_accumulate() {
        let cli = Cli::try_parse_from([
            "wamp",
            "--timeout",
            "5",
            "call",
            "x",
            "-k",
            "a=1",
            "--timeout",
            "0.5",
            "-k",
            "b=2",
        ])
        .expect("parses");
        assert_eq!(cli.connection.timeout, Some(Duration::from_millis(500)));
        let Command::Call(call) = cli.command else {
            panic!("not a call")
        };
        assert_eq!(call.payload.kwargs, ["a=1", "b=2"]);
    }

    #[test]
    fn global_flags_go_before_or_after_the_subcommand() {
        let cli = Cli::try_parse_from(["wamp", "session", "--url", "ws://x", "--user", "bob"])
            .expect("parses");
        assert_eq!(cli.connection.url.as_deref(), Some("ws://x"));
        assert_eq!(cli.connection.authid.as_deref(), Some("bob"));
    }
}
