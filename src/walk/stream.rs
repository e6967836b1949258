//! Streaming files through worker threads: in path order, within a memory
//! budget.
//!
//! Workers take files in path order from a shared [`Schedule`] and send each
//! result to the calling thread, which hands results on in path order. Only
//! the few results that finish ahead of an earlier file wait, so memory is
//! bounded by the work in flight, not by the corpus.
//!
//! The work in flight is what sets the peak. A parse tree takes some
//! 25 bytes per byte of source (a 0.9 MB Java file parses into 20 MB), and
//! the largest files of a code base tend to sit side by side in one folder
//! (generated tables, the JDK's charset mappings), so path order would parse
//! them at the same time. The schedule therefore starts a *large* file
//! (at least [`Budget::large_file_bytes`]) only while the large files in
//! flight, with it, stay within [`Budget::large_bytes_in_flight`], or when no
//! other large file is running. Otherwise the worker sets the file aside,
//! already read, and goes on with the next one. A set-aside file starts as
//! soon as the budget allows, and at the latest when no other file is left,
//! so a folder of nothing but large files still keeps every thread busy.
//! The texts set aside are bounded too, at four budgets' worth of source
//! (a twenty-fifth of the trees they would make); past that, large files
//! start over the budget.
//!
//! After a large file, the worker hands the memory it freed back to the
//! operating system ([`super::memory::release_free_memory`]), so that the
//! tree of that file does not stay resident in the worker's allocator arena
//! while another worker builds the next one.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};

use super::memory::{fix_thresholds, release_free_memory};
use super::{Processed, SourceFile, SourceFiles, read};
use crate::progress::Reporter;

/// Reads and processes `files` on `threads` worker threads and hands each
/// result to `consume`, on the calling thread and in the order of `files`.
/// `job` is given the text to keep, so a result that needs the original
/// text (a diff) does not copy it.
/// An error from `consume` stops the workers and is returned.
pub fn stream<T, E, J, C>(
    files: &SourceFiles,
    max_bytes: u64,
    threads: usize,
    reporter: &dyn Reporter,
    job: J,
    consume: C,
) -> Result<(), E>
where
    T: Send,
    J: Fn(&SourceFile, String) -> T + Sync,
    C: FnMut(&SourceFile, Processed<T>) -> Result<(), E>,
{
    stream_within(
        files,
        max_bytes,
        threads,
        Budget::DEFAULT,
        reporter,
        job,
        consume,
    )
}

/// How many large files may be processed at once.
#[derive(Clone, Copy, Debug)]
struct Budget {
    /// Files at least this long (in bytes) are large.
    large_file_bytes: usize,
    /// The bytes of large files in flight at once, unless a single large
    /// file exceeds it on its own.
    large_bytes_in_flight: usize,
}

impl Budget {
    /// Two files of 512 KiB, or one of the largest: some 25 MB of trees.
    const DEFAULT: Budget = Budget {
        large_file_bytes: 256 * 1024,
        large_bytes_in_flight: 1024 * 1024,
    };
}

/// What a worker does next.
enum Work {
    /// Read the file at this index, then ask [`Schedule::admit`].
    Read(usize),
    /// Process this set-aside file; its bytes are counted in flight.
    Resume(usize, String),
    /// Nothing is left.
    Done,
}

/// The files not yet taken, and the large ones in flight or set aside.
struct Schedule {
    budget: Budget,
    file_count: usize,
    next: usize,
    set_aside: VecDeque<(usize, String)>,
    set_aside_bytes: usize,
    /// The bytes of the large files in flight.
    large_bytes: usize,
}

impl Schedule {
    fn new(file_count: usize, budget: Budget) -> Schedule {
        Schedule {
            budget,
            file_count,
            next: 0,
            set_aside: VecDeque::new(),
            set_aside_bytes: 0,
            large_bytes: 0,
        }
    }

    fn take(&mut self) -> Work {
        if let Some((_, text)) = self.set_aside.front()
            && self.fits(text.len())
        {
            return self.resume();
        }
        if self.next < self.file_count {
            self.next += 1;
            return Work::Read(self.next - 1);
        }
        if self.set_aside.is_empty() {
            Work::Done
        } else {
            // Nothing else to do: run it over the budget rather than idle.
            self.resume()
        }
    }

    fn resume(&mut self) -> Work {
        match self.set_aside.pop_front() {
            Some((index, text)) => {
                self.set_aside_bytes -= text.len();
                self.large_bytes += text.len();
                Work::Resume(index, text)
            }
            None => Work::Done,
        }
    }

    /// Whether a large file of `length` bytes may start now.
    fn fits(&self, length: usize) -> bool {
        self.large_bytes == 0 || self.large_bytes + length <= self.budget.large_bytes_in_flight
    }

    /// Admits the file just read, or sets it aside (`None`). An admitted
    /// large file counts in flight until [`Schedule::finish`].
    fn admit(&mut self, index: usize, text: String) -> Option<String> {
        let length = text.len();
        if length < self.budget.large_file_bytes {
            return Some(text);
        }
        let room = 4 * self.budget.large_bytes_in_flight;
        if self.fits(length) || self.set_aside_bytes + length > room {
            self.large_bytes += length;
            Some(text)
        } else {
            self.set_aside_bytes += length;
            self.set_aside.push_back((index, text));
            None
        }
    }

    /// A file of `length` bytes is done; returns whether it was large.
    fn finish(&mut self, length: usize) -> bool {
        let large = length >= self.budget.large_file_bytes;
        if large {
            self.large_bytes -= length;
        }
        large
    }
}

fn stream_within<T, E, J, C>(
    files: &SourceFiles,
    max_bytes: u64,
    threads: usize,
    budget: Budget,
    reporter: &dyn Reporter,
    job: J,
    mut consume: C,
) -> Result<(), E>
where
    T: Send,
    J: Fn(&SourceFile, String) -> T + Sync,
    C: FnMut(&SourceFile, Processed<T>) -> Result<(), E>,
{
    let threads = threads.max(1);
    fix_thresholds();
    reporter.begin(files.len() as u64);
    let schedule = Mutex::new(Schedule::new(files.len(), budget));
    let lock = || schedule.lock().unwrap_or_else(PoisonError::into_inner);
    let stop = AtomicBool::new(false);
    let outcome = std::thread::scope(|scope| {
        let (sender, receiver) = std::sync::mpsc::sync_channel(threads * 16);
        for _ in 0..threads {
            let sender = sender.clone();
            let (stop, job, lock) = (&stop, &job, &lock);
            scope.spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let work = lock().take();
                    let (index, file, text) = match work {
                        Work::Done => break,
                        Work::Resume(index, text) => (index, files.get(index), Ok(text)),
                        Work::Read(index) => {
                            let file = files.get(index);
                            match read(&file.path, max_bytes) {
                                Ok(text) => match lock().admit(index, text) {
                                    Some(text) => (index, file, Ok(text)),
                                    None => continue,
                                },
                                Err(reason) => (index, file, Err(reason)),
                            }
                        }
                    };
                    let length = text.as_ref().map_or(0, String::len);
                    let result = text.map(|text| job(&file, text));
                    if lock().finish(length) {
                        release_free_memory();
                    }
                    reporter.advance(1);
                    if sender.send((index, (file, result))).is_err() {
                        break;
                    }
                }
            });
        }
        drop(sender);
        let mut waiting = BTreeMap::new();
        let mut expected = 0;
        for (index, result) in receiver {
            waiting.insert(index, result);
            while let Some((file, result)) = waiting.remove(&expected) {
                if let Err(error) = consume(&file, result) {
                    stop.store(true, Ordering::Relaxed);
                    return Err(error);
                }
                expected += 1;
            }
        }
        Ok(())
    });
    reporter.end();
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lang::Language;
    use crate::walk::{WalkOptions, find};
    use std::sync::atomic::AtomicUsize;

    fn source_files(root: &std::path::Path) -> SourceFiles {
        let options = WalkOptions {
            languages: Language::all().collect(),
            respect_ignores: true,
            threads: 2,
            glob_base: None,
        };
        find(&[root.to_path_buf()], &options).expect("walks")
    }

    #[test]
    fn streaming_hands_results_over_in_file_order_and_stops_on_error() {
        let temporary = tempfile::tempdir().expect("tempdir");
        let root = temporary.path();
        for index in 0..50 {
            // Uneven sizes, so workers finish out of order.
            let text = "x = 1\n".repeat(1 + (index * 37) % 500);
            std::fs::write(root.join(format!("f{index:02}.py")), text).expect("write");
        }
        let files = source_files(root);
        let mut seen = Vec::new();
        let outcome: Result<(), ()> = stream(
            &files,
            1 << 20,
            3,
            &crate::progress::Silent,
            |_, text| text.len(),
            |file, result| {
                seen.push((file.relative.clone(), result.expect("readable")));
                Ok(())
            },
        );
        assert_eq!(outcome, Ok(()));
        let expected: Vec<_> = files
            .iter()
            .map(|file| {
                let length = std::fs::metadata(&file.path).expect("metadata").len() as usize;
                (file.relative.clone(), length)
            })
            .collect();
        assert_eq!(seen, expected);

        let mut consumed = 0;
        let outcome = stream(
            &files,
            1 << 20,
            2,
            &crate::progress::Silent,
            |_, _| (),
            |_, _| {
                consumed += 1;
                if consumed == 3 {
                    Err("full disk")
                } else {
                    Ok(())
                }
            },
        );
        assert_eq!(outcome, Err("full disk"));
        assert_eq!(consumed, 3);
    }

    #[test]
    fn large_files_wait_for_the_budget_but_never_for_the_last_ones() {
        let temporary = tempfile::tempdir().expect("tempdir");
        let root = temporary.path();
        // Five large files side by side, many small ones after them.
        for index in 0..70 {
            let text = if (10..15).contains(&index) {
                "x = 1\n".repeat(200)
            } else {
                "x = 1\n".to_string()
            };
            std::fs::write(root.join(format!("f{index:02}.py")), text).expect("write");
        }
        let files = source_files(root);
        let budget = Budget {
            large_file_bytes: 1000,
            large_bytes_in_flight: 1500,
        };
        let in_flight = AtomicUsize::new(0);
        let most_in_flight = AtomicUsize::new(0);
        let job = |_: &SourceFile, text: String| {
            if text.len() >= budget.large_file_bytes {
                let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                most_in_flight.fetch_max(now, Ordering::SeqCst);
                std::thread::sleep(std::time::Duration::from_millis(10));
                in_flight.fetch_sub(1, Ordering::SeqCst);
            } else {
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
            text.len()
        };
        let mut seen = Vec::new();
        let outcome: Result<(), ()> = stream_within(
            &files,
            1 << 20,
            2,
            budget,
            &crate::progress::Silent,
            job,
            |file, result| {
                seen.push((file.relative.clone(), result.expect("readable")));
                Ok(())
            },
        );
        assert_eq!(outcome, Ok(()));
        assert_eq!(seen.len(), 70, "every file once, in order");
        assert!(seen.windows(2).all(|pair| pair[0].0 < pair[1].0));
        assert_eq!(seen.iter().filter(|(_, length)| *length == 1200).count(), 5);
        assert_eq!(most_in_flight.load(Ordering::SeqCst), 1);

        // Nothing but large files: they overlap rather than leave a thread idle.
        in_flight.store(0, Ordering::SeqCst);
        most_in_flight.store(0, Ordering::SeqCst);
        let large = files.subset(10..15);
        let outcome: Result<(), ()> = stream_within(
            &large,
            1 << 20,
            2,
            budget,
            &crate::progress::Silent,
            job,
            |_, _| Ok(()),
        );
        assert_eq!(outcome, Ok(()));
        assert_eq!(most_in_flight.load(Ordering::SeqCst), 2);
    }
}
