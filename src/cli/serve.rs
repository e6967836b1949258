//! `fleetmod serve`: the report, the status document and the metrics of
//! one or more migrations over HTTP, read from the state store on every
//! request (so a run in another process shows up as it goes, with its
//! heartbeat).
//!
//! Routes: `/` (the HTML report; an index of migrations when serving
//! several), `/migrations/{id}` (one report), `/api/status` (the status
//! document; `{"schema_version", "migrations": [...]}` when serving
//! several), `/api/status/{id}` and `/metrics`. Store reads are blocking,
//! so they run on tokio's blocking pool.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use clap::Args;
use serde_json::json;

use super::Failure;
use super::run::{Setup, WorkspaceArguments, set_up};
use super::status::snapshot;
use crate::report::status::{self, Filter};
use crate::report::{Snapshot, html, metrics};

#[derive(Debug, Args)]
pub(crate) struct ServeArguments {
    /// The migration specs (YAML); their workspace is shared.
    #[arg(required = true)]
    specs: Vec<PathBuf>,
    /// The address to listen on (port 0 picks a free port; the address is
    /// printed on stderr).
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:9898")]
    addr: SocketAddr,
    #[command(flatten)]
    workspace: WorkspaceArguments,
}

type Setups = Arc<Vec<Setup>>;

pub(crate) fn run(arguments: ServeArguments) -> Result<(), Failure> {
    let setups: Vec<Setup> = arguments
        .specs
        .iter()
        .map(|spec| set_up(spec, &arguments.workspace.workspace))
        .collect::<Result<_, _>>()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("failed to start the server's runtime")?;
    runtime.block_on(serve(Arc::new(setups), arguments.addr))
}

async fn serve(setups: Setups, address: SocketAddr) -> Result<(), Failure> {
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .with_context(|| format!("failed to listen on {address}"))?;
    let bound = listener
        .local_addr()
        .context("failed to read the bound address")?;
    let ids: Vec<&str> = setups.iter().map(|setup| setup.spec.id.as_str()).collect();
    eprintln!(
        "serving {} on http://{bound}/ (/metrics, /api/status)",
        ids.join(", ")
    );
    let router = Router::new()
        .route("/", get(index))
        .route("/migrations/{id}", get(report))
        .route("/api/status", get(all_status))
        .route("/api/status/{id}", get(one_status))
        .route("/metrics", get(exposition))
        .with_state(setups);
    axum::serve(listener, router)
        .await
        .context("the server failed")?;
    Ok(())
}

/// Reads the snapshots of the migrations `wanted` selects, off the async
/// threads.
async fn read(setups: Setups, wanted: Option<String>) -> Result<Vec<Snapshot>, Response> {
    let result = tokio::task::spawn_blocking(move || {
        setups
            .iter()
            .filter(|setup| wanted.as_ref().is_none_or(|id| &setup.spec.id == id))
            .map(|setup| snapshot(setup).map_err(describe))
            .collect::<Result<Vec<_>, String>>()
    })
    .await;
    match result {
        Ok(Ok(snapshots)) if !snapshots.is_empty() => Ok(snapshots),
        Ok(Ok(_)) => Err((StatusCode::NOT_FOUND, "no such migration\n").into_response()),
        Ok(Err(message)) => Err((StatusCode::INTERNAL_SERVER_ERROR, message).into_response()),
        Err(error) => Err((StatusCode::INTERNAL_SERVER_ERROR, error.to_string()).into_response()),
    }
}

fn describe(failure: Failure) -> String {
    match failure {
        Failure::Input(error) => format!("{error:#}\n"),
        _ => "failed to read the state store\n".to_owned(),
    }
}

fn page(body: String) -> Response {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response()
}

async fn index(State(setups): State<Setups>) -> Response {
    if setups.len() == 1 {
        return report(State(setups.clone()), Path(setups[0].spec.id.clone())).await;
    }
    let snapshots = match read(setups, None).await {
        Ok(snapshots) => snapshots,
        Err(response) => return response,
    };
    let items: String = snapshots
        .iter()
        .map(|snapshot| {
            format!(
                "<li><a href=\"/migrations/{id}\">{title}</a> — {done:.1}% done of {count} repositories</li>",
                id = html::escape(&snapshot.migration),
                title = html::escape(snapshot.display_title()),
                done = snapshot.done_percent(),
                count = snapshot.repos.len()
            )
        })
        .collect();
    page(format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>fleetmod migrations</title></head>\
         <body style=\"font-family:system-ui,sans-serif;max-width:800px;margin:2em auto\"><h1>Migrations</h1><ul>{items}</ul>\
         <p><a href=\"/metrics\">metrics</a> · <a href=\"/api/status\">status JSON</a></p></body></html>\n"
    ))
}

async fn report(State(setups): State<Setups>, Path(id): Path<String>) -> Response {
    match read(setups, Some(id)).await {
        Ok(snapshots) => page(html::render(&snapshots[0])),
        Err(response) => response,
    }
}

async fn all_status(State(setups): State<Setups>) -> Response {
    match read(setups, None).await {
        Ok(snapshots) if snapshots.len() == 1 => {
            axum::Json(status::document(&snapshots[0], &Filter::default())).into_response()
        }
        Ok(snapshots) => axum::Json(json!({
            "schema_version": status::SCHEMA_VERSION,
            "migrations": snapshots
                .iter()
                .map(|snapshot| status::document(snapshot, &Filter::default()))
                .collect::<Vec<_>>(),
        }))
        .into_response(),
        Err(response) => response,
    }
}

async fn one_status(State(setups): State<Setups>, Path(id): Path<String>) -> Response {
    match read(setups, Some(id)).await {
        Ok(snapshots) => {
            axum::Json(status::document(&snapshots[0], &Filter::default())).into_response()
        }
        Err(response) => response,
    }
}

async fn exposition(State(setups): State<Setups>) -> Response {
    match read(setups, None).await {
        Ok(snapshots) => (
            [(header::CONTENT_TYPE, metrics::CONTENT_TYPE)],
            metrics::render(&snapshots),
        )
            .into_response(),
        Err(response) => response,
    }
}
