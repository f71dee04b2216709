//! `-v`: the library's log on stderr. Without it only warnings of izaber.yaml and
//! errors are shown, by `wamp` itself.

use log::{Level, Log, Metadata, Record};

struct Stderr;

impl Log for Stderr {
    fn enabled(&self, metadata: &Metadata) -> bool {
        metadata.level() <= log::max_level()
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

/// Logs at the level `-v` asks for: none, then info, debug, trace.
pub fn init(verbose: u8) {
    let level = match verbose {
        0 => return,
        1 => Level::Info,
        2 => Level::Debug,
        _ => Level::Trace,
    };
    if log::set_logger(&Stderr).is_ok() {
        log::set_max_level(level.to_level_filter());
    }
}
