//! `-v`: the library's log on stderr. Without it only warnings of izaber.yaml and
//! errors are shown, by `wamp` itself.
//!
//! `-v` shows izaber-wamp's info (joins, leaves, reconnects, the GOODBYE), `-vv` its
//! debug lines, `-vvv` everything down to the WebSocket frames of every crate.

use log::{Level, LevelFilter, Log, Metadata, Record};
use std::sync::OnceLock;

struct Stderr {
    /// The most detailed level shown for izaber-wamp's own log.
    ours: Level,
    /// Show other crates' lines beyond warnings too.
    everything: bool,
}

impl Log for Stderr {
    fn enabled(&self, metadata: &Metadata) -> bool {
        let level = metadata.level();
        level <= Level::Warn
            || self.everything
            || (metadata.target().starts_with("izaber_wamp") && level <= self.ours)
    }

    fn log(&self, record: &Record) {
        if self.enabled(record.metadata()) {
            eprintln!(
                "wamp: [{}] {}: {}",
                record.level(),
                record.target(),
                record.args()
            );
        }
    }

    fn flush(&self) {}
}

/// Logs at the level `-v` asks for.
pub fn init(verbose: u8) {
    let (ours, everything) = match verbose {
        0 => return,
        1 => (Level::Info, false),
        2 => (Level::Debug, false),
        _ => (Level::Trace, true),
    };
    static LOGGER: OnceLock<Stderr> = OnceLock::new();
    if log::set_logger(LOGGER.get_or_init(|| Stderr { ours, everything })).is_ok() {
        log::set_max_level(if everything {
            LevelFilter::Trace
        } else {
            ours.to_level_filter()
        });
    }
}
