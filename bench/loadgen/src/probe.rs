//! CPU and memory from /proc: the server's (by pid), the load generator's own, and the
//! whole machine's, so that every figure can say who else used the two cores meanwhile.

use std::fs;
use std::time::Instant;

use serde::Serialize;

/// Clock ticks per second of /proc's CPU times. The kernel reports them in USER_HZ, which
/// is 100 on every architecture Linux exposes to user space this way.
const TICKS_PER_S: f64 = 100.0;

/// utime + stime of a process, in seconds (`self` for the load generator).
pub fn process_cpu_s(pid: &str) -> Option<f64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces and parentheses: count fields after the last ')'.
    let after = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = after.split(' ').collect();
    // fields[0] is field 3 (state); utime and stime are fields 14 and 15.
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / TICKS_PER_S)
}

/// Resident memory of a process (VmRSS), in KiB.
pub fn rss_kb(pid: &str) -> Option<u64> {
    kb_field(&format!("/proc/{pid}/status"), "VmRSS:")
}

/// A `Key:   123 kB` line of /proc/<pid>/status or /proc/meminfo.
fn kb_field(path: &str, key: &str) -> Option<u64> {
    let text = fs::read_to_string(path).ok()?;
    let line = text.lines().find(|l| l.starts_with(key))?;
    line[key.len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// CPU seconds the whole machine spent busy (everything but idle and iowait), all cores.
fn machine_busy_s() -> f64 {
    let stat = fs::read_to_string("/proc/stat").unwrap_or_default();
    let ticks: Vec<f64> = stat
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .skip(1)
        .take(8) // user nice system idle iowait irq softirq steal; guest is inside user
        .filter_map(|x| x.parse().ok())
        .collect();
    if ticks.len() < 8 {
        return 0.0;
    }
    let total: f64 = ticks.iter().sum();
    (total - ticks[3] - ticks[4]) / TICKS_PER_S
}

/// A measured span: what the server, the generator and everybody else used during it.
pub struct Window {
    pid: Option<String>,
    t0: Instant,
    server_cpu: Option<f64>,
    server_rss: Option<u64>,
    own_cpu: f64,
    machine: f64,
}

#[derive(Serialize, Clone, Debug)]
pub struct Span {
    pub wall_s: f64,
    /// Server CPU (user + system) in the span; null without --pid.
    pub server_cpu_s: Option<f64>,
    pub server_rss_kb_before: Option<u64>,
    pub server_rss_kb_after: Option<u64>,
    /// The load generator's own CPU in the span (all its threads).
    pub loadgen_cpu_s: f64,
    /// The rest of the machine: busy CPU minus the server's and the generator's.
    pub others_cpu_s: Option<f64>,
}

impl Span {
    pub fn server_cores(&self) -> Option<f64> {
        self.server_cpu_s.map(|s| s / self.wall_s)
    }

    pub fn loadgen_cores(&self) -> f64 {
        self.loadgen_cpu_s / self.wall_s
    }
}

impl Window {
    pub fn start(pid: Option<&str>) -> Self {
        Self {
            pid: pid.map(str::to_owned),
            t0: Instant::now(),
            server_cpu: pid.and_then(process_cpu_s),
            server_rss: pid.and_then(rss_kb),
            own_cpu: process_cpu_s("self").unwrap_or(0.0),
            machine: machine_busy_s(),
        }
    }

    pub fn close(&self) -> Span {
        let pid = self.pid.as_deref();
        let server_cpu = pid
            .and_then(process_cpu_s)
            .zip(self.server_cpu)
            .map(|(b, a)| b - a);
        let loadgen = process_cpu_s("self").unwrap_or(0.0) - self.own_cpu;
        let busy = machine_busy_s() - self.machine;
        Span {
            wall_s: self.t0.elapsed().as_secs_f64(),
            server_cpu_s: server_cpu,
            server_rss_kb_before: self.server_rss,
            server_rss_kb_after: pid.and_then(rss_kb),
            loadgen_cpu_s: loadgen,
            // Tick granularity (10 ms per reading) can make it slightly negative.
            others_cpu_s: server_cpu.map(|s| (busy - s - loadgen).max(0.0)),
        }
    }
}

/// The machine, for the result files and the table's header.
pub fn machine() -> serde_json::Value {
    let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|l| l.trim_start_matches([' ', '\t', ':']).to_owned());
    serde_json::json!({
        "cpu_model": model,
        "cores": std::thread::available_parallelism().map_or(0, |n| n.get()),
        "mem_total_kb": kb_field("/proc/meminfo", "MemTotal:"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_own_process() {
        assert!(process_cpu_s("self").is_some());
        assert!(rss_kb("self").unwrap() > 0);
        let w = Window::start(Some("self"));
        let span = w.close();
        assert!(span.server_cpu_s.is_some() && span.wall_s >= 0.0);
    }
}
