//! What a `fleetmod run` shows and reports while it works: the progress
//! (a bar on a terminal, periodic log lines otherwise) and the heartbeat
//! (the run log in the state store, and the Pushgateway when asked).
//!
//! Design: [`RunProgress`] is the run's [`Reporter`]. It counts steps
//! (every repository is prepared, then published), repositories done and
//! their outcomes. [`heartbeat`] runs on a scoped thread beside the run:
//! every interval it records the heartbeat, pushes the metrics, and logs a
//! progress line when no bar is drawn. A failed heartbeat or push is a
//! warning: monitoring never fails a run.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use super::Failure;
use super::logging::ProgressStyle;
use super::run::Setup;
use super::status::snapshot;
use crate::progress::Reporter;
use crate::report::metrics;
use crate::report::pushgateway::Pushgateway;
use crate::store::{RunLog, time};

/// How a run ended, for the run log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RunEnd {
    Ok,
    Failures,
    Held,
    Interrupted,
    Error,
    /// Another run held the lease: nothing was done, nothing is logged.
    Refused,
}

/// The heartbeat and reports of one run.
pub(crate) struct Monitor<'a> {
    setup: &'a Setup,
    /// The run log and this run's id (not for dry runs).
    run: Option<(Mutex<RunLog>, i64)>,
    pushgateway: Option<Pushgateway>,
    interval: Duration,
    progress: RunProgress,
}

impl<'a> Monitor<'a> {
    /// Starts monitoring a run of `setup`: logs its start unless `dry_run`.
    pub(crate) fn start(
        setup: &'a Setup,
        dry_run: bool,
        pushgateway: Option<&str>,
        interval: Duration,
        style: ProgressStyle,
    ) -> Result<Monitor<'a>, Failure> {
        let pushgateway = pushgateway
            .map(|url| Pushgateway::new(url, &setup.spec.id))
            .transpose()
            .map_err(|error| Failure::Input(error.into()))?;
        let run = if dry_run {
            None
        } else {
            let log = RunLog::open(&setup.workspace.state_path())
                .map_err(|error| Failure::Input(error.into()))?;
            let id = log
                .begin(&setup.spec.id, time::now_ms())
                .map_err(|error| Failure::Input(error.into()))?;
            Some((Mutex::new(log), id))
        };
        Ok(Monitor {
            setup,
            run,
            pushgateway,
            interval,
            progress: RunProgress::new(style),
        })
    }

    pub(crate) fn progress(&self) -> &RunProgress {
        &self.progress
    }

    /// Runs `work` with a heartbeat beside it.
    pub(crate) fn watch<T>(&self, work: impl FnOnce() -> T) -> T {
        let (stop, stopped) = std::sync::mpsc::channel();
        // SQLite connections are not shared across threads: the heartbeat
        // has its own.
        let beat_log = self.run.as_ref().and_then(|(_, id)| {
            RunLog::open(&self.setup.workspace.state_path())
                .inspect_err(|error| tracing::warn!("no run heartbeat: {error}"))
                .ok()
                .map(|log| (log, *id))
        });
        std::thread::scope(|scope| {
            scope.spawn(move || {
                heartbeat(self.interval, &stopped, || {
                    if let Some((log, id)) = &beat_log
                        && let Err(error) = log.heartbeat(*id, time::now_ms())
                    {
                        tracing::warn!("failed to record the run's heartbeat: {error}");
                    }
                    self.push();
                    if self.progress.logs_lines() {
                        tracing::info!("{}", self.progress.line());
                    }
                });
            });
            let result = work();
            let _ = stop.send(());
            result
        })
    }

    /// Logs the end of the run and pushes the final figures.
    pub(crate) fn finish(self, end: RunEnd) {
        if let Some((log, id)) = &self.run
            && let Ok(log) = log.lock()
        {
            let outcome = match end {
                RunEnd::Ok => "ok",
                RunEnd::Failures => "failures",
                RunEnd::Held => "held",
                RunEnd::Interrupted => "interrupted",
                RunEnd::Error => "error",
                RunEnd::Refused => "",
            };
            let result = if end == RunEnd::Refused {
                log.discard(*id)
            } else {
                log.finish(*id, time::now_ms(), outcome)
            };
            if let Err(error) = result {
                tracing::warn!("failed to record the end of the run: {error}");
            }
        }
        self.push();
    }

    /// Pushes the migration's metrics, read from the store now.
    fn push(&self) {
        let Some(gateway) = &self.pushgateway else {
            return;
        };
        let exposition = match snapshot(self.setup) {
            Ok(snapshot) => metrics::render(&[snapshot]),
            Err(_) => {
                tracing::warn!("failed to read the state store for the Pushgateway");
                return;
            }
        };
        match gateway.push(&exposition) {
            Ok(()) => tracing::debug!("pushed metrics to the Pushgateway"),
            Err(error) => tracing::warn!("{error}"),
        }
    }
}

#[derive(Default)]
struct Counts {
    steps: u64,
    steps_done: u64,
    repos: u64,
    repos_done: u64,
    outcomes: BTreeMap<&'static str, u64>,
}

/// Progress of a run: steps, repositories done, outcomes and an ETA.
pub(crate) struct RunProgress {
    style: ProgressStyle,
    bar: Option<indicatif::ProgressBar>,
    counts: Mutex<Counts>,
    started: Instant,
}

impl RunProgress {
    pub(crate) fn new(style: ProgressStyle) -> RunProgress {
        let bar = (style == ProgressStyle::Bar).then(|| {
            let bar = indicatif::ProgressBar::with_draw_target(
                None,
                indicatif::ProgressDrawTarget::stderr(),
            );
            let template = "{spinner} [{elapsed_precise}] {bar:30} {percent:>3}% ETA {eta} · {msg}";
            if let Ok(style) = indicatif::ProgressStyle::with_template(template) {
                bar.set_style(style);
            }
            bar
        });
        RunProgress {
            style,
            bar,
            counts: Mutex::new(Counts::default()),
            started: Instant::now(),
        }
    }

    fn update(&self, change: impl FnOnce(&mut Counts)) {
        let Ok(mut counts) = self.counts.lock() else {
            return;
        };
        change(&mut counts);
        if let Some(bar) = &self.bar {
            bar.set_position(counts.steps_done);
            bar.set_message(describe(&counts));
        }
    }

    /// One line on where the run is, with an ETA from the pace so far.
    pub(crate) fn line(&self) -> String {
        let Ok(counts) = self.counts.lock() else {
            return String::new();
        };
        let eta = if counts.steps_done == 0 || counts.steps_done >= counts.steps {
            String::new()
        } else {
            let elapsed = self.started.elapsed().as_secs_f64();
            let rest =
                elapsed / counts.steps_done as f64 * (counts.steps - counts.steps_done) as f64;
            format!(", ETA {}s", rest.ceil() as u64)
        };
        format!("progress: {}{eta}", describe(&counts))
    }

    pub(crate) fn logs_lines(&self) -> bool {
        self.style == ProgressStyle::Lines
    }
}

/// `12/40 repos done, 40 prepared (5 opened, 6 up to date, 1 failed)`.
fn describe(counts: &Counts) -> String {
    let prepared = counts.steps_done.saturating_sub(counts.repos_done);
    let outcomes: Vec<String> = counts
        .outcomes
        .iter()
        .map(|(label, count)| format!("{count} {label}"))
        .collect();
    let mut text = format!(
        "{}/{} repos done, {prepared}/{} prepared",
        counts.repos_done, counts.repos, counts.repos
    );
    if !outcomes.is_empty() {
        text.push_str(&format!(" ({})", outcomes.join(", ")));
    }
    text
}

impl Reporter for RunProgress {
    fn begin(&self, total: u64) {
        self.update(|counts| {
            counts.steps = total;
            // The run prepares, then publishes, every repository.
            counts.repos = total / 2;
        });
        if let Some(bar) = &self.bar {
            bar.set_length(total);
            bar.enable_steady_tick(Duration::from_millis(200));
        }
        // Without a bar, a bot's log says at once how big the run is; the
        // heartbeat adds a line every interval.
        if self.logs_lines() {
            tracing::info!("{}", self.line());
        }
    }

    fn advance(&self, count: u64) {
        self.update(|counts| counts.steps_done += count);
    }

    fn finished(&self, outcome: &'static str) {
        self.update(|counts| {
            counts.repos_done += 1;
            *counts.outcomes.entry(outcome).or_default() += 1;
        });
    }

    fn end(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// Calls `beat` every `interval` until `stop` receives or disconnects.
pub(crate) fn heartbeat(interval: Duration, stop: &Receiver<()>, mut beat: impl FnMut()) {
    loop {
        match stop.recv_timeout(interval) {
            Err(RecvTimeoutError::Timeout) => beat(),
            Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_count_repositories_and_outcomes() {
        let progress = RunProgress::new(ProgressStyle::Lines);
        progress.begin(6);
        progress.advance(3);
        progress.advance(1);
        progress.finished("opened");
        let line = progress.line();
        assert!(
            line.starts_with("progress: 1/3 repos done, 3/3 prepared (1 opened), ETA "),
            "{line}"
        );
    }

    #[test]
    fn the_heartbeat_beats_until_stopped() {
        let (sender, receiver) = std::sync::mpsc::channel();
        let mut beats = 0;
        std::thread::scope(|scope| {
            scope.spawn(|| {
                std::thread::sleep(Duration::from_millis(120));
                sender.send(()).unwrap();
            });
            heartbeat(Duration::from_millis(10), &receiver, || beats += 1);
        });
        assert!(beats >= 2, "{beats}");
    }
}
