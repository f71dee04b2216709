//! What this test process uses, from `/proc/self` (Linux): memory, threads, files.

/// A line of `/proc/self/status` in kB, e.g. `VmHWM` (the peak resident size) or
/// `VmPeak` (the peak address space).
pub fn status_kb(key: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    status
        .lines()
        .find_map(|line| line.strip_prefix(key)?.strip_prefix(':'))
        .and_then(|rest| rest.trim().trim_end_matches(" kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no {key} in /proc/self/status"))
}

/// How many entries `dir` has, e.g. `/proc/self/task` (threads) or `/proc/self/fd`.
pub fn count_entries(dir: &str) -> usize {
    std::fs::read_dir(dir).expect("read /proc").count()
}

/// Threads of this process whose name starts with `prefix` (names are cut to 15).
pub fn threads_named(prefix: &str) -> usize {
    std::fs::read_dir("/proc/self/task")
        .expect("read /proc/self/task")
        .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
        .filter(|name| name.trim_end().starts_with(prefix))
        .count()
}
