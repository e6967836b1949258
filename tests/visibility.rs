//! Migration visibility end to end, on the bundled example after a run and
//! two merges: `status` (table, filters, JSON checked against the SQLite
//! store), `report` (HTML rendered by headless Chromium, with a screenshot
//! in `target/test-artifacts/`; Markdown), `metrics` (checked by
//! `promtool check metrics`), `serve` (over HTTP) and `run --pushgateway`
//! (against a real Pushgateway). Chromium, promtool and the Pushgateway
//! come from Debian's `chromium`, `prometheus` and `prometheus-pushgateway`
//! packages, which `.ci/run` installs.

mod common;
mod fleet;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fleet::{Fleet, assert_success};
use serde_json::Value;

/// The example after `run` and merges of two of its pull requests.
fn merged_example() -> Fleet {
    let example = Fleet::example();
    example.run(&[]);
    assert_success(&example.forge(&["merge", "acme/analytics", "1"]));
    assert_success(&example.forge(&["merge", "acme/finance-reports", "1"]));
    // The next run syncs the merges into the store.
    example.run(&[]);
    example
}

fn stdout(fleet: &Fleet, subcommand: &str, arguments: &[&str]) -> String {
    let output = fleet
        .command(subcommand)
        .args(arguments)
        .output()
        .expect("runs");
    assert_success(&output);
    String::from_utf8(output.stdout).expect("utf-8")
}

/// A tool from Debian's packages, or a clear failure naming the package.
fn tool(name: &str, package: &str) -> PathBuf {
    for folder in std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .chain([PathBuf::from("/usr/bin"), PathBuf::from("/usr/sbin")])
    {
        let candidate = folder.join(name);
        if candidate.is_file() {
            return candidate;
        }
    }
    panic!("`{name}` is needed: install Debian's `{package}` package (see .ci/run)")
}

#[test]
fn status_json_matches_the_store_and_the_table_filters() {
    let example = merged_example();
    let status: Value = serde_json::from_str(&stdout(&example, "status", &["--json"])).unwrap();
    assert_eq!(status["schema_version"], 1);
    assert_eq!(status["migration"], "orders-v2");
    // Every row the store holds, field by field.
    let store = rusqlite::Connection::open(example.workspace().join("state.db")).unwrap();
    let mut statement = store
        .prepare(
            "SELECT repo, state, pull_request, review_items, files_changed, owners, \
             review_locations FROM repos WHERE migration = 'orders-v2' ORDER BY repo",
        )
        .unwrap();
    let stored: Vec<StoredRow> = statement
        .query_map([], |row| {
            Ok((
                row.get(0)?,
                row.get(1)?,
                row.get(2)?,
                row.get(3)?,
                row.get(4)?,
                row.get(5)?,
                row.get(6)?,
            ))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let repos = status["repos"].as_array().unwrap();
    assert_eq!(repos.len(), stored.len());
    for (row, (repo, state, pull, review, files, owners, locations)) in repos.iter().zip(&stored) {
        assert_eq!(row["repo"], *repo);
        assert_eq!(row["state"], *state, "{repo}");
        assert_eq!(row["pull_request"]["number"].as_i64(), *pull, "{repo}");
        assert_eq!(row["review_items"], *review, "{repo}");
        assert_eq!(row["files_changed"], *files, "{repo}");
        let owners: Vec<&str> = owners.split('\n').filter(|o| !o.is_empty()).collect();
        assert_eq!(row["owners"], serde_json::json!(owners), "{repo}");
        let locations: Value = serde_json::from_str(locations).unwrap();
        assert_eq!(row["review_locations"], locations, "{repo}");
        assert_eq!(
            row["review_locations"].as_array().unwrap().len() as i64,
            *review,
            "{repo}: one location per review item"
        );
    }
    let states: BTreeMap<&str, &str> = repos
        .iter()
        .map(|row| {
            (
                row["repo"].as_str().unwrap(),
                row["state"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(states["acme/analytics"], "merged");
    assert_eq!(states["acme/finance-reports"], "merged");
    assert_eq!(states["acme/billing"], "pr-open");
    assert_eq!(states["acme/inventory"], "no-change");
    // Totals: every state, summing to the repositories.
    let totals = status["totals"].as_object().unwrap();
    assert_eq!(totals["repos"], repos.len());
    assert_eq!(totals["merged"], 2);
    let sum: u64 = totals
        .iter()
        .filter(|(key, _)| !["repos", "done_percent"].contains(&key.as_str()))
        .map(|(_, count)| count.as_u64().unwrap())
        .sum();
    assert_eq!(sum, repos.len() as u64);
    let done = repos
        .iter()
        .filter(|row| ["merged", "no-change"].contains(&row["state"].as_str().unwrap()))
        .count();
    let percent = (1000.0 * done as f64 / repos.len() as f64).round() / 10.0;
    assert_eq!(totals["done_percent"].as_f64().unwrap(), percent);
    assert_eq!(status["last_run"]["outcome"], "ok");
    // A merged pull request has an age: from opened to merged.
    let analytics = repos
        .iter()
        .find(|row| row["repo"] == "acme/analytics")
        .unwrap();
    assert!(analytics["age_seconds"].as_i64().unwrap() >= 0);

    // The table: the issue's columns and a totals line.
    let table = stdout(&example, "status", &[]);
    let header = table.lines().next().unwrap();
    for column in [
        "REPO",
        "OWNER",
        "STATE",
        "PR",
        "CHECKS",
        "REVIEW",
        "AGE",
        "LAST ERROR",
    ] {
        assert!(header.contains(column), "{header}");
    }
    assert!(
        table.contains(&format!("orders-v2: {} repositories: ", repos.len())),
        "{table}"
    );
    assert!(table.contains("2 merged"), "{table}");
    // Filters.
    let merged = stdout(&example, "status", &["--state", "merged"]);
    assert_eq!(
        merged
            .lines()
            .filter(|line| line.starts_with("acme/"))
            .count(),
        2
    );
    assert!(merged.contains("2 repositories (of"), "{merged}");
    let owner = repos[0]["owners"][0].as_str().unwrap().to_owned();
    let owned: Value =
        serde_json::from_str(&stdout(&example, "status", &["--owner", &owner, "--json"])).unwrap();
    let expected = repos
        .iter()
        .filter(|row| {
            row["owners"]
                .as_array()
                .unwrap()
                .iter()
                .any(|o| o == &owner)
        })
        .count();
    assert_eq!(owned["repos"].as_array().unwrap().len(), expected);
    assert_eq!(owned["filters"]["owner"], owner.as_str());
    let output = example
        .command("status")
        .args(["--state", "half-done"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("`half-done` is not a repository state")
    );
}

/// repo, state, pull request, review items, files changed, owners, review
/// locations: as the store's `repos` table holds them.
type StoredRow = (String, String, Option<i64>, i64, i64, String, String);

/// What Chromium rendered: the page's visible text and the chart's parts.
fn render_in_chromium(page: &Path, screenshot: &Path) -> Value {
    let chromium = tool("chromium", "chromium");
    let profile = tempfile::tempdir().unwrap();
    let flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
    ];
    // A harness page reads the report's rendered layout (innerText and
    // the chart elements' boxes) from an iframe on the same file origin.
    let harness = page.with_file_name("harness.html");
    std::fs::write(
        &harness,
        r#"<!DOCTYPE html><html><body><iframe id="report" src="report.html" style="width:1200px;height:2000px"></iframe>
<pre id="result"></pre>
<script>
document.getElementById('report').addEventListener('load', function () {
  var doc = this.contentDocument;
  var box = function (element) { var r = element.getBoundingClientRect(); return {width: r.width, height: r.height}; };
  var result = {
    text: doc.body.innerText,
    scripts: doc.querySelectorAll('script').length,
    external: Array.from(doc.querySelectorAll('[src],link[href]')).length,
    chart: box(doc.querySelector('svg.burndown')),
    line: doc.querySelectorAll('svg.burndown polyline.remaining').length,
    points: Array.from(doc.querySelectorAll('svg.burndown circle.remaining-point')).map(box),
    bars: Array.from(doc.querySelectorAll('svg.burndown rect.merged')).map(function (bar) { return {box: box(bar), title: bar.textContent}; }),
    links: Array.from(doc.querySelectorAll('a')).map(function (a) { return a.getAttribute('href'); })
  };
  document.getElementById('result').textContent = JSON.stringify(result);
});
</script></body></html>"#,
    )
    .unwrap();
    let output = Command::new(&chromium)
        .args(flags)
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args([
            "--allow-file-access-from-files",
            "--virtual-time-budget=5000",
            "--dump-dom",
        ])
        .arg(&harness)
        .output()
        .expect("chromium runs");
    let dom = String::from_utf8_lossy(&output.stdout);
    let start = dom.find("<pre id=\"result\">").expect("the harness ran") + 17;
    let end = start + dom[start..].find("</pre>").unwrap();
    let json = dom[start..end]
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    let rendered: Value = serde_json::from_str(&json).unwrap_or_else(|error| {
        panic!(
            "{error}: {json}\n--- stderr\n{}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    std::fs::create_dir_all(screenshot.parent().unwrap()).unwrap();
    let shot = Command::new(&chromium)
        .args(flags)
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--screenshot={}", screenshot.display()))
        .arg("--window-size=1200,2200")
        .arg(page)
        .output()
        .expect("chromium runs");
    assert!(
        screenshot.is_file(),
        "no screenshot: {}",
        String::from_utf8_lossy(&shot.stderr)
    );
    rendered
}

#[test]
fn the_report_renders_the_right_numbers_in_chromium() {
    let example = merged_example();
    let report = example.folder.path().join("report.html");
    let output = example
        .command("report")
        .arg("--out")
        .arg(&report)
        .output()
        .unwrap();
    assert_success(&output);
    let html = std::fs::read_to_string(&report).unwrap();
    assert!(!html.contains("<script"), "no scripts");
    // No address but the SVG namespace (the local forge's pull requests
    // have no web address).
    let addresses = html.replace("http://www.w3.org/2000/svg", "");
    assert!(
        !addresses.contains("http://") && !addresses.contains("https://"),
        "{html}"
    );
    let status: Value = serde_json::from_str(&stdout(&example, "status", &["--json"])).unwrap();
    let totals = &status["totals"];

    let artifacts = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    std::fs::copy(&report, artifacts.join("report.html")).unwrap();
    let rendered = render_in_chromium(&report, &artifacts.join("report.png"));
    let text = rendered["text"].as_str().unwrap();
    // Title, and the description rendered from Markdown.
    assert!(
        text.contains("Move sales.orders to sales_v2.orders"),
        "{text}"
    );
    assert!(text.contains("is replaced by sales_v2.orders"), "{text}");
    // The progress numbers match the store's totals.
    let stat = |label: &str| -> u64 {
        let at = text
            .find(&format!("\n{label}\n"))
            .unwrap_or_else(|| panic!("{label}: {text}"));
        let before = text[..at].rsplit('\n').next().unwrap();
        before
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{label}: {before:?}"))
    };
    assert_eq!(stat("repositories"), totals["repos"].as_u64().unwrap());
    assert_eq!(stat("merged"), 2);
    assert_eq!(stat("no change"), totals["no-change"].as_u64().unwrap());
    assert_eq!(
        stat("PR open"),
        totals["pr-open"].as_u64().unwrap()
            + totals["pushed"].as_u64().unwrap()
            + totals["changed"].as_u64().unwrap()
    );
    assert_eq!(
        stat("needs attention"),
        totals["needs-attention"].as_u64().unwrap()
    );
    assert_eq!(stat("failed"), totals["failed"].as_u64().unwrap());
    assert!(
        text.contains(&format!(
            "{:.1}% done",
            totals["done_percent"].as_f64().unwrap()
        )),
        "{text}"
    );
    // Per-owner and per-repository sections with review locations.
    assert!(
        text.contains("By owner") && text.contains("Repositories"),
        "{text}"
    );
    for row in status["repos"].as_array().unwrap() {
        assert!(text.contains(row["repo"].as_str().unwrap()), "{row}");
        if let Some(location) = row["review_locations"].as_array().unwrap().first() {
            let place = format!(
                "{}:{}",
                location["path"].as_str().unwrap(),
                location["line"]
            );
            assert!(text.contains(&place), "{place} in {text}");
        }
    }
    // The chart is drawn: a line with a visible box, a point per day (the
    // day before the first run, when all remained, and today) and a bar for
    // today's two merges.
    assert_eq!(rendered["scripts"], 0);
    assert_eq!(rendered["external"], 0);
    assert!(
        rendered["chart"]["width"].as_f64().unwrap() > 300.0,
        "{rendered}"
    );
    assert!(
        rendered["chart"]["height"].as_f64().unwrap() > 100.0,
        "{rendered}"
    );
    assert_eq!(rendered["line"], 1);
    assert_eq!(rendered["points"].as_array().unwrap().len(), 2);
    let bars = rendered["bars"].as_array().unwrap();
    assert_eq!(bars.len(), 1, "{rendered}");
    assert!(bars[0]["title"].as_str().unwrap().ends_with(": 2 merged"));
    assert!(
        bars[0]["box"]["height"].as_f64().unwrap() > 10.0,
        "{rendered}"
    );
}

#[test]
fn the_tracking_issue_markdown_lists_every_repository_by_owner() {
    let example = merged_example();
    let markdown = stdout(&example, "report", &["--format", "markdown"]);
    assert!(markdown.starts_with("## Migration: Move sales.orders to sales_v2.orders"));
    assert!(
        markdown.contains("**Progress: 3 of 6 repositories done (50.0%)**"),
        "{markdown}"
    );
    assert!(
        markdown.contains("- [x] `acme/analytics` — merged #1"),
        "{markdown}"
    );
    assert!(
        markdown.contains("- [ ] `acme/billing` — pr-open #1"),
        "{markdown}"
    );
    assert!(markdown.contains("### Needs attention"), "{markdown}");
    assert!(markdown.chars().count() < 60_000);
}

fn promtool_check(exposition: &str) {
    let promtool = tool("promtool", "prometheus");
    let mut child = Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(exposition.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "promtool check metrics failed:\n{}{}\n{exposition}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The value of the sample `name{labels}` in an exposition.
fn sample(exposition: &str, series: &str) -> Option<f64> {
    exposition
        .lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[test]
fn metrics_pass_promtool_and_match_the_status() {
    let example = merged_example();
    let exposition = stdout(&example, "metrics", &[]);
    promtool_check(&exposition);
    let status: Value = serde_json::from_str(&stdout(&example, "status", &["--json"])).unwrap();
    for state in [
        "pending",
        "merged",
        "pr-open",
        "no-change",
        "needs-attention",
        "failed",
    ] {
        assert_eq!(
            sample(
                &exposition,
                &format!("fleetmod_repos{{migration=\"orders-v2\",state=\"{state}\"}}")
            ),
            status["totals"][state].as_f64(),
            "{state}\n{exposition}"
        );
    }
    let merged = r#"fleetmod_pull_requests{migration="orders-v2",state="merged"}"#;
    assert_eq!(sample(&exposition, merged), Some(2.0));
    let open_review: f64 = status["repos"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|row| row["state"] == "pr-open" || row["state"] == "needs-attention")
        .filter(|row| !row["pull_request"].is_null())
        .map(|row| row["review_items"].as_f64().unwrap())
        .sum();
    assert_eq!(
        sample(
            &exposition,
            r#"fleetmod_review_items{migration="orders-v2"}"#
        ),
        Some(open_review)
    );
    let last_run = sample(
        &exposition,
        r#"fleetmod_last_run_timestamp_seconds{migration="orders-v2"}"#,
    )
    .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    assert!(
        now - last_run < 600.0 && now >= last_run,
        "{last_run} vs {now}"
    );
    assert!(
        sample(
            &exposition,
            r#"fleetmod_run_duration_seconds{migration="orders-v2"}"#
        )
        .unwrap()
            >= 0.0
    );
    assert_eq!(
        sample(
            &exposition,
            r#"fleetmod_run_in_progress{migration="orders-v2"}"#
        ),
        Some(0.0)
    );
    // --out writes the textfile collector's file.
    let file = example.folder.path().join("fleetmod.prom");
    stdout(&example, "metrics", &["--out", file.to_str().unwrap()]);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), exposition);
}

/// `GET path` from a server on 127.0.0.1: (status, content type, body).
fn http_get(address: &str, path: &str) -> (u16, String, String) {
    let mut stream = TcpStream::connect(address).unwrap();
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {address}\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    let content_type = head
        .lines()
        .find_map(|line| {
            line.to_ascii_lowercase()
                .strip_prefix("content-type: ")
                .map(str::to_owned)
        })
        .unwrap_or_default();
    (status, content_type, body.to_owned())
}

/// A child process killed when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `fleetmod serve` on a free port; returns it with its address.
fn serve(fleet: &Fleet) -> (Server, String) {
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("fleetmod"))
        .current_dir(fleet.folder.path())
        .arg("serve")
        .arg(&fleet.spec)
        .arg("--workspace")
        .arg(fleet.workspace())
        .args(["--addr", "127.0.0.1:0"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stderr.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let address = line
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_owned();
    (Server(child), address)
}

#[test]
fn serve_answers_from_the_store_and_shows_a_crashed_runs_heartbeat() {
    let fleet = Fleet::generate(5, "");
    let (_server, address) = serve(&fleet);
    let running = r#"fleetmod_run_in_progress{migration="orders-v2"}"#;
    let heartbeat = r#"fleetmod_heartbeat_timestamp_seconds{migration="orders-v2"}"#;
    // Before any run: every repository pending, no heartbeat.
    let (status, content_type, exposition) = http_get(&address, "/metrics");
    assert_eq!(status, 200);
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    promtool_check(&exposition);
    assert_eq!(
        sample(
            &exposition,
            r#"fleetmod_repos{migration="orders-v2",state="pending"}"#
        ),
        Some(5.0)
    );
    assert_eq!(sample(&exposition, heartbeat), None);

    // A run killed (abort, as kill -9) after its first saved event keeps
    // its run open: serve shows it in progress, with the heartbeat it left.
    let crashed = fleet
        .command("run")
        .env("FLEETMOD_TEST_CRASH", "event:1")
        .output()
        .unwrap();
    assert_eq!(crashed.status.code(), None, "the run was aborted");
    let (_, _, exposition) = http_get(&address, "/metrics");
    assert_eq!(sample(&exposition, running), Some(1.0), "{exposition}");
    let crashed_beat = sample(&exposition, heartbeat).unwrap();

    // The next run finishes; serve reads the store again on each request.
    fleet.run(&[]);
    let (_, _, exposition) = http_get(&address, "/metrics");
    promtool_check(&exposition);
    assert_eq!(sample(&exposition, running), Some(0.0), "{exposition}");
    assert!(sample(&exposition, heartbeat).unwrap() >= crashed_beat);
    assert_eq!(
        sample(
            &exposition,
            r#"fleetmod_repos{migration="orders-v2",state="pr-open"}"#
        ),
        Some(4.0)
    );

    let (status, content_type, page) = http_get(&address, "/");
    assert_eq!(status, 200);
    assert!(content_type.starts_with("text/html"));
    assert!(page.contains("<svg class=\"burndown\""), "{page}");
    let (status, content_type, json) = http_get(&address, "/api/status");
    assert_eq!((status, content_type.as_str()), (200, "application/json"));
    let served: Value = serde_json::from_str(&json).unwrap();
    let status_json: Value = serde_json::from_str(&stdout(&fleet, "status", &["--json"])).unwrap();
    assert_eq!(served["repos"], status_json["repos"]);
    assert_eq!(served["totals"], status_json["totals"]);
    assert_eq!(http_get(&address, "/api/status/orders-v2").0, 200);
    assert_eq!(http_get(&address, "/api/status/nothing-here").0, 404);
}

/// A Pushgateway on a free port, with its storage in `folder`.
fn pushgateway(folder: &Path) -> (Server, String) {
    let binary = tool("prometheus-pushgateway", "prometheus-pushgateway");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let address = format!("127.0.0.1:{port}");
    let child = Command::new(binary)
        .arg(format!("--web.listen-address={address}"))
        .arg(format!(
            "--persistence.file={}",
            folder.join("pushgateway.db").display()
        ))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let server = Server(child);
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(&address).is_err() {
        assert!(Instant::now() < deadline, "the Pushgateway did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    (server, address)
}

#[test]
fn a_run_pushes_its_metrics_to_a_real_pushgateway() {
    let example = Fleet::example();
    let (_gateway, address) = pushgateway(example.folder.path());
    let output = example
        .command("run")
        .args([
            "--pushgateway",
            &format!("http://{address}"),
            "--heartbeat",
            "1",
        ])
        .output()
        .unwrap();
    assert_success(&output);
    let (status, _, exposition) = http_get(&address, "/metrics");
    assert_eq!(status, 200);
    // The group's metrics, with the grouping key's labels added.
    let opened = exposition
        .lines()
        .find(|line| {
            line.starts_with("fleetmod_repos{")
                && line.contains("job=\"fleetmod\"")
                && line.contains("state=\"pr-open\"")
        })
        .unwrap_or_else(|| panic!("{exposition}"));
    let status: Value = serde_json::from_str(&stdout(&example, "status", &["--json"])).unwrap();
    assert_eq!(
        opened.rsplit(' ').next().unwrap().parse::<f64>().unwrap(),
        status["totals"]["pr-open"].as_f64().unwrap()
    );
    assert!(exposition.contains("push_time_seconds{"), "{exposition}");
    assert!(
        exposition
            .lines()
            .any(|line| line.starts_with("fleetmod_run_in_progress{") && line.ends_with(" 0")),
        "the final push says the run is over:\n{exposition}"
    );
    // A bad address is bad input (exit 2) before anything runs.
    let output = example
        .command("run")
        .args(["--pushgateway", "https://push.example:9091"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("https is not supported"));
}

#[test]
fn json_logs_and_progress_lines_for_bots() {
    let example = Fleet::example();
    let output = example
        .command("run")
        .args(["--log-format", "json", "--heartbeat", "1"])
        .output()
        .unwrap();
    assert_success(&output);
    let stderr = String::from_utf8_lossy(&output.stderr);
    // Every log line is a JSON object with a level.
    let logs: Vec<Value> = stderr
        .lines()
        .filter(|line| line.starts_with('{'))
        .map(|line| serde_json::from_str(line).expect("a JSON log line"))
        .collect();
    for log in &logs {
        assert!(log["level"].is_string(), "{log}");
    }
    let finished = logs
        .iter()
        .find(|log| log["message"] == "run finished")
        .unwrap_or_else(|| panic!("{stderr}"));
    assert_eq!(finished["migration"], "orders-v2");
    assert_eq!(finished["repositories"], 6);
    // Not on a terminal: progress comes as log lines, the first at the start.
    let progress = logs
        .iter()
        .find(|log| {
            log["message"].as_str().is_some_and(|message| {
                message.starts_with("progress: 0/6 repos done, 0/6 prepared")
            })
        })
        .unwrap_or_else(|| panic!("{stderr}"));
    assert_eq!(progress["level"], "INFO");
    let quiet = example.command("run").arg("-q").output().unwrap();
    assert_success(&quiet);
    assert!(!String::from_utf8_lossy(&quiet.stderr).contains("progress:"));
}
