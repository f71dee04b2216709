//! A fuzz test that runs on the stable toolchain, in CI: random and mutated input for
//! every entry point that reads bytes from a peer or a file (see `fuzzing/mod.rs`).
//! An input fails the test when an entry point
//!
//! * panics,
//! * allocates more than [`ALLOC_FACTOR`] × its length + [`ALLOC_SLACK`] bytes at
//!   its peak, whatever the lengths in its headers claim, or
//! * takes more than 10 ms of CPU time per KiB of input ([`MAX_NANOS_PER_BYTE`]), or
//!   [`TIME_FLOOR`] for small input.
//!
//! It runs for `FUZZ_SECONDS` seconds (default 3; `scripts/check fuzz` runs 60), or
//! `FUZZ_ITERATIONS` inputs if that is set, on every core, each thread with its own
//! stream of a seeded generator. The seed is printed first; `FUZZ_SEED=<seed>`
//! repeats a run (with the same `FUZZ_ITERATIONS`), and `FUZZ_INPUT=<hex>` runs one
//! input alone, as printed on a failure. `FUZZ_WRITE_SEEDS=<dir>` writes the seed
//! corpus as `<dir>/<cargo-fuzz target>/seed-N` (for `fuzz/`, `proto/fuzz/corpus`)
//! and runs nothing else. Fixed regression input runs first: the
//! hostile MessagePack frame that once reserved 53 GiB, and its kin for CBOR, JSON,
//! RawSocket and OpenSSH keys.
//!
//! The generator is a xorshift64* of a few lines rather than a crate: nothing here
//! needs more than uniform bytes, and a run stays reproducible from its seed whatever
//! version of a crate would be in the lock file.

mod fuzzing;

use fuzzing::{Target, TARGETS};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::Write as _;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Peak bytes an input may have allocated, per byte of input. The worst measured is
/// 221, on the "one-entry dicts" regression input, and it is what the data model
/// costs, not a claimed length: a dict of one entry encodes in three bytes
/// (MessagePack `81 a0 c0`, CBOR `a1 60 f6`) and takes one B-tree leaf node of a
/// `Dict` (632 bytes on 64-bit) plus its slot in the enclosing list (32). Lists,
/// strings and bytes take at most 64 bytes per byte (a 32-byte `Value` per item, and
/// JSON's lists grow by doubling). A decoder that trusted a claimed length would blow
/// far past this: the MessagePack regression frame below once made the client
/// reserve 53 GiB for 14 MB, 4,000 bytes per byte.
const ALLOC_FACTOR: usize = 256;

/// Peak bytes any input may allocate on top, for what does not grow with the input:
/// error messages, a few B-tree nodes nested as deep as allowed (128 × 632 bytes for
/// MessagePack's `81 a0` nested: 2 bytes a level), parser scratch space.
const ALLOC_SLACK: usize = 128 * 1024;

/// 10 ms per KiB.
const MAX_NANOS_PER_BYTE: u64 = 10_000_000 / 1024;

/// The time any input may take. Generous, so that a loaded 2-core machine does not
/// fail the test (time is the thread's CPU time, retried once when over the limit);
/// the worst case seen is reported. Deriving a valid OpenSSH key's public key costs
/// about 10 ms in a debug build, and has taken over 20 ms twice in a row on a 2-core
/// machine with both cores fuzzing.
const TIME_FLOOR: Duration = Duration::from_millis(50);

/// Inputs below these lengths are not counted in the reported worst allocation and
/// time per KiB: their fixed costs would dominate (deriving a valid key's public key
/// takes about 10 ms in a debug build, whatever the file's length).
const REPORT_ALLOC_MIN_LEN: usize = 256;
const REPORT_TIME_MIN_LEN: usize = 4096;

// ---------------------------------------------------------------------------
// Counting allocator: the live bytes of this thread and their peak since a reset.
// ---------------------------------------------------------------------------

struct Counting;

thread_local! {
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn grew(new: usize, old: usize) {
    // try_with: the thread may be tearing down its locals.
    let _ = LIVE.try_with(|live| {
        // The new block exists before the old one is freed.
        let during = live.get() + new as isize;
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(during)));
        live.set(during - old as isize);
    });
}

// SAFETY: every call goes straight to the system allocator; the counting touches
// only const-initialized thread locals without destructors, which do not allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let block = unsafe { System.alloc(layout) };
        if !block.is_null() {
            grew(layout.size(), 0);
        }
        block
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let block = unsafe { System.alloc_zeroed(layout) };
        if !block.is_null() {
            grew(layout.size(), 0);
        }
        block
    }

    unsafe fn dealloc(&self, block: *mut u8, layout: Layout) {
        unsafe { System.dealloc(block, layout) };
        grew(0, layout.size());
    }

    unsafe fn realloc(&self, block: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let moved = unsafe { System.realloc(block, layout, new_size) };
        if !moved.is_null() {
            grew(new_size, layout.size());
        }
        moved
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The peak of live bytes while `f` runs, counting from zero at its start.
fn peak_during(f: impl FnOnce()) -> usize {
    LIVE.with(|live| live.set(0));
    PEAK.with(|peak| peak.set(0));
    f();
    PEAK.with(Cell::get).max(0) as usize
}

/// This thread's CPU time: unlike the wall clock, it does not run on while other
/// processes have the core.
#[cfg(unix)]
fn cpu_time() -> Duration {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: a valid out-pointer to a timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}

#[cfg(not(unix))]
fn cpu_time() -> Duration {
    static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    START.get_or_init(Instant::now).elapsed()
}

// ---------------------------------------------------------------------------
// Running one input
// ---------------------------------------------------------------------------

/// What running one input through one entry point cost.
#[derive(Clone, Copy)]
struct Cost {
    peak: usize,
    time: Duration,
}

/// A failure, with all it takes to repeat it.
struct Failure {
    target: &'static str,
    why: String,
    input: Vec<u8>,
}

fn time_limit(len: usize) -> Duration {
    Duration::from_nanos(MAX_NANOS_PER_BYTE * len as u64).max(TIME_FLOOR)
}

fn alloc_limit(len: usize) -> usize {
    ALLOC_FACTOR * len + ALLOC_SLACK
}

/// Runs `target` on `input`, once more when it took too long (the slower run is
/// taken as noise), and judges the cost.
fn run(name: &'static str, target: Target, input: &[u8]) -> Result<Cost, Failure> {
    let fail = |why: String| Failure {
        target: name,
        why,
        input: input.to_vec(),
    };
    let once = || -> Result<Cost, String> {
        let start = cpu_time();
        let mut outcome = Ok(());
        let peak = peak_during(|| {
            outcome = panic::catch_unwind(AssertUnwindSafe(|| target(input)));
        });
        let time = cpu_time().saturating_sub(start);
        match outcome {
            Ok(()) => Ok(Cost { peak, time }),
            Err(payload) => Err(format!("panicked: {}", panic_text(&payload))),
        }
    };
    let mut cost = once().map_err(fail)?;
    if cost.time > time_limit(input.len()) {
        let again = once().map_err(fail)?;
        cost.time = cost.time.min(again.time);
    }
    if cost.peak > alloc_limit(input.len()) {
        return Err(fail(format!(
            "allocated {} bytes at the peak for {} bytes of input, over the limit of {}",
            cost.peak,
            input.len(),
            alloc_limit(input.len())
        )));
    }
    if cost.time > time_limit(input.len()) {
        return Err(fail(format!(
            "took {:?} of CPU time for {} bytes of input, over the limit of {:?}",
            cost.time,
            input.len(),
            time_limit(input.len())
        )));
    }
    Ok(cost)
}

fn panic_text(payload: &Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(not a string)".into())
}

/// The worst costs seen, for the report.
#[derive(Default)]
struct Stats {
    inputs: u64,
    runs: u64,
    largest: usize,
    /// Peak bytes per input byte, and the entry point and length where it was seen.
    worst_alloc: (f64, &'static str, usize),
    /// CPU nanoseconds per KiB, likewise.
    worst_time_per_kib: (f64, &'static str, usize),
    /// The longest any input took.
    worst_time: (Duration, &'static str, usize),
}

impl Stats {
    fn add(&mut self, name: &'static str, len: usize, cost: Cost) {
        self.runs += 1;
        if cost.time > self.worst_time.0 {
            self.worst_time = (cost.time, name, len);
        }
        let alloc = cost.peak as f64 / len as f64;
        if len >= REPORT_ALLOC_MIN_LEN && alloc > self.worst_alloc.0 {
            self.worst_alloc = (alloc, name, len);
        }
        if len >= REPORT_TIME_MIN_LEN {
            let per_kib = cost.time.as_nanos() as f64 * 1024.0 / len as f64;
            if per_kib > self.worst_time_per_kib.0 {
                self.worst_time_per_kib = (per_kib, name, len);
            }
        }
    }

    fn merge(&mut self, other: &Stats) {
        self.inputs += other.inputs;
        self.runs += other.runs;
        self.largest = self.largest.max(other.largest);
        for (mine, theirs) in [
            (&mut self.worst_alloc, other.worst_alloc),
            (&mut self.worst_time_per_kib, other.worst_time_per_kib),
        ] {
            if theirs.0 > mine.0 {
                *mine = theirs;
            }
        }
        if other.worst_time.0 > self.worst_time.0 {
            self.worst_time = other.worst_time;
        }
    }
}

/// Every entry point on one input.
fn run_all(input: &[u8], stats: &mut Stats) -> Result<(), Failure> {
    stats.inputs += 1;
    stats.largest = stats.largest.max(input.len());
    for (name, target) in TARGETS {
        let cost = run(name, target, input)?;
        stats.add(name, input.len(), cost);
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Input
// ---------------------------------------------------------------------------

/// xorshift64* (Vigna): small, fast, and plenty for picking bytes.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        // Any seed but zero; splitmix the seed so that nearby seeds differ at once.
        let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        Rng((z ^ (z >> 31)) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number below `n` (0 when `n` is 0).
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }

    fn byte(&mut self) -> u8 {
        self.next() as u8
    }

    /// A length skewed to small: mostly under 64, sometimes up to `max`.
    fn length(&mut self, max: usize) -> usize {
        match self.below(8) {
            0..=4 => self.below(64),
            5 | 6 => self.below(1024),
            _ => self.below(max + 1),
        }
    }
}

/// Bytes that mean something in some format: markers, lengths, breaks.
const INTERESTING_BYTES: [u8; 24] = [
    0x00, 0x01, 0x7f, 0x80, 0xff, 0xc0, 0xc1, 0xc4, 0xd9, 0xdc, 0xdd, 0xde, 0xdf, 0x9f, 0xbf, 0x5b,
    0x7b, 0x9b, 0xbb, 0x1b, 0xfb, 0x18, 0x5c, 0x22,
];

/// Numbers that make good lengths: the edges of every width.
const INTERESTING_NUMBERS: [u64; 10] = [
    0,
    1,
    0x7f,
    0xff,
    0xffff,
    0x7fff_ffff,
    0xffff_ffff,
    0x0100_0000,
    u64::MAX,
    i64::MAX as u64,
];

const MAX_INPUT: usize = 1 << 20;

/// Changes `input` a few times over.
fn mutate(rng: &mut Rng, input: &mut Vec<u8>, corpus: &[Vec<u8>]) {
    for _ in 0..1 + rng.below(4) {
        let len = input.len();
        let at = rng.below(len);
        match rng.below(11) {
            0 if len > 0 => input[at] ^= 1 << rng.below(8),
            1 if len > 0 => input[at] = rng.byte(),
            2 if len > 0 => input[at] = INTERESTING_BYTES[rng.below(INTERESTING_BYTES.len())],
            3 if len > 0 => {
                let n = INTERESTING_NUMBERS[rng.below(INTERESTING_NUMBERS.len())];
                let width = [1, 2, 4, 8][rng.below(4)];
                let bytes = n.to_be_bytes();
                for (offset, byte) in bytes[8 - width..].iter().enumerate() {
                    if let Some(slot) = input.get_mut(at + offset) {
                        *slot = *byte;
                    }
                }
            }
            4 => {
                let extra: Vec<u8> = (0..1 + rng.below(16)).map(|_| rng.byte()).collect();
                input.splice(at..at, extra);
            }
            5 if len > 0 => {
                let end = (at + 1 + rng.below(16)).min(len);
                input.drain(at..end);
            }
            6 if len > 0 => {
                let end = (at + 1 + rng.below(64)).min(len);
                let copy = input[at..end].to_vec();
                let to = rng.below(len + 1);
                input.splice(to..to, copy);
            }
            7 => {
                let other = &corpus[rng.below(corpus.len())];
                let from = rng.below(other.len());
                input.truncate(at);
                input.extend_from_slice(&other[from..]);
            }
            8 => input.truncate(at),
            9 if len > 0 => {
                // A run repeated: long lists, deep nesting, many frames.
                let end = (at + 1 + rng.below(8)).min(len);
                let run = input[at..end].to_vec();
                let times = 1 + rng.length(4096);
                let mut repeated = Vec::with_capacity(run.len() * times);
                for _ in 0..times {
                    repeated.extend_from_slice(&run);
                }
                input.splice(at..at, repeated);
            }
            _ => {
                let n = rng.length(4096);
                input.clear();
                input.extend((0..n).map(|_| rng.byte()));
            }
        }
        input.truncate(MAX_INPUT);
    }
}

/// The next input: mostly a mutated seed, sometimes plain random bytes.
fn next_input(rng: &mut Rng, corpus: &[Vec<u8>]) -> Vec<u8> {
    if rng.below(8) == 0 {
        let n = rng.length(8192);
        return (0..n).map(|_| rng.byte()).collect();
    }
    let mut input = corpus[rng.below(corpus.len())].clone();
    mutate(rng, &mut input, corpus);
    input
}

/// Fixed input that must keep passing, each for the entry point it attacks: hostile
/// length claims in every format.
fn regressions() -> Vec<(&'static str, &'static str, Vec<u8>)> {
    let repeat = |unit: &[u8], total: usize| -> Vec<u8> {
        unit.iter().copied().cycle().take(total).collect()
    };
    let ff = |n: usize| vec![0xff; n];
    // Each nested level claims exactly the bytes left after its header: every claim
    // fits the frame on its own, but not together with its parents'.
    let levels = 200;
    let mut exact = Vec::new();
    for level in 0..levels {
        exact.push(0xdd);
        exact.extend_from_slice(&(((levels - level - 1) * 5 + 1) as u32).to_be_bytes());
    }
    exact.push(0xc0);
    vec![
        // The report: array32 headers each claiming 2^32 - 1 items, 14 MB of them.
        (
            "msgpack",
            "nested array32 claims",
            repeat(&[0xdd, 0xff, 0xff, 0xff, 0xff], 14_000_000),
        ),
        ("msgpack", "nested claims of the rest", exact),
        (
            "msgpack",
            "nested map32 claims",
            repeat(&[0xdf, 0xff, 0xff, 0xff, 0xff], 100_000),
        ),
        (
            "msgpack",
            "str32 and bin32 claims",
            [&[0x92, 0xdb][..], &ff(4), &[0xc6], &ff(4)].concat(),
        ),
        (
            "cbor",
            "nested 64-bit array claims",
            repeat(
                &[0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
                100_000,
            ),
        ),
        (
            "cbor",
            "nested 32-bit map claims",
            repeat(&[0xba, 0xff, 0xff, 0xff, 0xff], 100_000),
        ),
        (
            "cbor",
            "byte and text string claims",
            [&[0x82, 0x5b][..], &ff(8), &[0x7a], &ff(4)].concat(),
        ),
        ("cbor", "nested indefinite arrays", repeat(&[0x9f], 100_000)),
        // The most memory per byte that honest input can ask for: a dict per three
        // bytes. These fix ALLOC_FACTOR.
        (
            "msgpack",
            "one-entry dicts",
            [
                &[0xdc, 0x55, 0x55][..],
                &repeat(&[0x81, 0xa0, 0xc0], 3 * 0x5555),
            ]
            .concat(),
        ),
        (
            "cbor",
            "one-entry dicts",
            [
                &[0x99, 0x55, 0x55][..],
                &repeat(&[0xa1, 0x60, 0xf6], 3 * 0x5555),
            ]
            .concat(),
        ),
        (
            "json",
            "one-entry dicts",
            [&b"["[..], &repeat(b"{\"\":0},", 7 * 0x5555), b"0]"].concat(),
        ),
        ("cbor", "tag chain", repeat(&[0xc1], 100_000)),
        (
            "cbor",
            "indefinite string of empty chunks",
            [vec![0x7f], repeat(&[0x60], 100_000)].concat(),
        ),
        ("json", "nested lists", repeat(b"[", 100_000)),
        ("json", "nested dicts", repeat(b"{\"\":", 100_000)),
        (
            "json",
            "long \\0 base64 string",
            [&b"[48,1,{},\"p\",[\"\\u0000"[..], &repeat(b"AAA!", 100_000)].concat(),
        ),
        // Limit 16 MiB, pieces of 256 bytes: headers claiming 2^24 and 2^24 - 1.
        (
            "rawsocket",
            "16 MiB claims",
            [&[0x0f, 0xff, 0x00, 0xff, 0xff, 0xff, 1, 2, 3][..]].concat(),
        ),
        (
            "rawsocket",
            "2^24 claim",
            [&[0x0f, 0x00, 0x08, 0, 0, 0][..], &[7; 1000]].concat(),
        ),
        (
            "rawsocket",
            "many empty frames",
            [vec![0x00, 0x00], repeat(&[0x01, 0, 0, 0], 100_000)].concat(),
        ),
        // An OpenSSH blob whose first string claims 2^32 - 1 bytes.
        (
            "openssh",
            "string claims",
            [&b"openssh-key-v1\0"[..], &ff(4)].concat(),
        ),
    ]
}

// ---------------------------------------------------------------------------
// The test
// ---------------------------------------------------------------------------

fn env_number(name: &str) -> Option<u64> {
    let text = std::env::var(name).ok()?;
    let text = text.trim();
    match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => text.parse().ok(),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Vec<u8> {
    let digits: Vec<u8> = text.bytes().filter(u8::is_ascii_hexdigit).collect();
    digits
        .chunks(2)
        .filter_map(|pair| u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok())
        .collect()
}

/// Written straight to stderr, past the test harness's capture, so that the seed is
/// on record even if the process dies.
fn say(line: &str) {
    let _ = writeln!(std::io::stderr(), "fuzz_decoders: {line}");
}

fn failure_report(seed: u64, failure: &Failure) -> String {
    let shown = if failure.input.len() > 4096 {
        format!(
            "{}... ({} bytes)",
            hex(&failure.input[..4096]),
            failure.input.len()
        )
    } else {
        hex(&failure.input)
    };
    format!(
        "{} {}\n  seed: 0x{seed:016x} (FUZZ_SEED=0x{seed:016x} repeats the run)\n  \
         input: FUZZ_INPUT={shown}",
        failure.target, failure.why
    )
}

fn write_seeds(dir: &std::path::Path) {
    // The cargo-fuzz targets are named as the entry points.
    for (target, _) in TARGETS {
        let dir = dir.join(target);
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        for (n, seed) in fuzzing::seed_corpus().iter().enumerate() {
            let path = dir.join(format!("seed-{n}"));
            std::fs::write(&path, seed).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        }
    }
    say(&format!("wrote the seed corpus under {}", dir.display()));
}

#[test]
fn decoders_survive_random_and_mutated_input_within_bounds() {
    if let Some(dir) = std::env::var_os("FUZZ_WRITE_SEEDS") {
        return write_seeds(std::path::Path::new(&dir));
    }
    if let Ok(text) = std::env::var("FUZZ_INPUT") {
        let input = unhex(&text);
        let mut stats = Stats::default();
        if let Err(failure) = run_all(&input, &mut stats) {
            panic!("{}", failure_report(0, &failure));
        }
        return;
    }
    let seed = env_number("FUZZ_SEED").unwrap_or_else(|| {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
        now.map_or(1, |d| d.as_nanos() as u64)
    });
    let seconds = env_number("FUZZ_SECONDS").unwrap_or(3);
    let iterations = env_number("FUZZ_ITERATIONS");
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    say(&format!(
        "seed 0x{seed:016x}, {} on {threads} threads",
        match iterations {
            Some(n) => format!("{n} inputs"),
            None => format!("{seconds} s"),
        }
    ));

    let started = Instant::now();
    let mut total = Stats::default();
    for (target_name, name, input) in regressions() {
        let target = TARGETS
            .iter()
            .find(|(n, _)| *n == target_name)
            .map(|&(_, t)| t);
        let target = target.unwrap_or_else(|| panic!("no entry point {target_name}"));
        total.inputs += 1;
        total.largest = total.largest.max(input.len());
        match run(target_name, target, &input) {
            Ok(cost) => total.add(target_name, input.len(), cost),
            Err(failure) => panic!(
                "regression input {name:?}: {}",
                failure_report(seed, &failure)
            ),
        }
    }

    let corpus = Arc::new(fuzzing::seed_corpus());
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let stop = Arc::new(AtomicBool::new(false));
    let next_index = Arc::new(AtomicU64::new(0));
    let failures = Arc::new(Mutex::new(Vec::new()));
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let (corpus, stop, next_index, failures) = (
                corpus.clone(),
                stop.clone(),
                next_index.clone(),
                failures.clone(),
            );
            std::thread::spawn(move || {
                let mut stats = Stats::default();
                while !stop.load(Ordering::Relaxed) {
                    // Input number i comes from its own generator, so a run with
                    // FUZZ_ITERATIONS is the same whatever the thread count.
                    let index = next_index.fetch_add(1, Ordering::Relaxed);
                    if iterations.is_some_and(|n| index >= n)
                        || (iterations.is_none() && Instant::now() >= deadline)
                    {
                        break;
                    }
                    let mut rng = Rng::new(seed ^ index.wrapping_mul(0x9e37_79b9_7f4a_7c15));
                    let input = next_input(&mut rng, &corpus);
                    if let Err(failure) = run_all(&input, &mut stats) {
                        stop.store(true, Ordering::Relaxed);
                        failures
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .push(failure);
                    }
                }
                stats
            })
        })
        .collect();
    for worker in workers {
        match worker.join() {
            Ok(stats) => total.merge(&stats),
            Err(_) => panic!("a fuzz thread died (seed 0x{seed:016x})"),
        }
    }

    say(&format!(
        "{} inputs ({} entry-point runs, largest {} bytes) in {:.1} s; worst allocation \
         {:.1} bytes per input byte ({} on {} bytes; limit {ALLOC_FACTOR} + {} KiB); worst \
         CPU time {:.3} ms per KiB ({} on {} bytes; limit 10); longest {:?} ({} on {} bytes)",
        total.inputs,
        total.runs,
        total.largest,
        started.elapsed().as_secs_f64(),
        total.worst_alloc.0,
        total.worst_alloc.1,
        total.worst_alloc.2,
        ALLOC_SLACK / 1024,
        total.worst_time_per_kib.0 / 1e6,
        total.worst_time_per_kib.1,
        total.worst_time_per_kib.2,
        total.worst_time.0,
        total.worst_time.1,
        total.worst_time.2,
    ));
    let failures = failures.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(failure) = failures.first() {
        panic!("{}", failure_report(seed, failure));
    }
}

/// Mutations of valid input reach deep only if the seeds are valid: every sample
/// message round-trips in every serializer built in, the key file parses, and the
/// RawSocket streams give back their frames.
#[test]
fn the_seed_corpus_is_valid_input() {
    use izaber_wamp_proto::auth::Cryptosign;
    use izaber_wamp_proto::rawsocket::Decoder;
    use izaber_wamp_proto::Serializer;

    let messages = fuzzing::sample_messages();
    assert_eq!(messages.len(), 26, "one of every type");
    for serializer in Serializer::ALL.into_iter().filter(|s| s.is_compiled_in()) {
        for message in &messages {
            let frame = serializer.encode(message.clone()).expect("encodes");
            assert_eq!(
                serializer.decode(&frame).as_ref(),
                Ok(message),
                "{serializer}"
            );
        }
    }
    let key = fuzzing::openssh_key_blob();
    let from_blob = Cryptosign::from_key_data(fuzzing::armour(&key).as_bytes());
    assert_eq!(
        from_blob.ok().map(|k| k.seed_hex()),
        Some("07".repeat(32)),
        "the generated key file parses"
    );
    let streams = fuzzing::seed_corpus();
    let stream = streams
        .iter()
        .find(|s| s.starts_with(&[0x0f, 0xff]))
        .expect("a RawSocket stream");
    let mut decoder = Decoder::new(1 << 24);
    let mut input = &stream[2..];
    let mut frames = 0;
    while let Some(_frame) = decoder.feed(&mut input).expect("valid frames") {
        frames += 1;
    }
    assert_eq!(frames, 28, "every message, a PING and a PONG");
}
