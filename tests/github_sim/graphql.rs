//! The GraphQL endpoint, limited to `markPullRequestReadyForReview`.
//!
//! Design: no GraphQL parser; the query text is searched for the mutation
//! name and the pull request node id is taken from the variables (or an
//! inline `pullRequestId: "..."` literal). Errors use GraphQL's 200 +
//! `errors` convention.

use serde::Deserialize;
use serde_json::{Value, json};

use super::handlers::Ctx;
use super::routes::Reply;
use super::state::World;

/// The pull request id a GraphQL request refers to: a string variable
/// (`id`, `pullRequestId`, `input.pullRequestId`, else the first string)
/// or an inline `pullRequestId: "..."` literal.
pub fn graphql_pull_id(query: &str, variables: &Value) -> Option<String> {
    let pick = |v: &Value| -> Option<String> {
        for k in ["id", "pullRequestId", "prId", "nodeId"] {
            if let Some(s) = v.get(k).and_then(Value::as_str) {
                return Some(s.to_string());
            }
        }
        v.as_object()?
            .values()
            .find_map(|x| x.as_str().map(str::to_string))
    };
    if let Some(id) = variables
        .get("input")
        .and_then(&pick)
        .or_else(|| pick(variables))
    {
        return Some(id);
    }
    let after = query.split("pullRequestId").nth(1)?;
    let start = after.find('"')? + 1;
    let len = after[start..].find('"')?;
    Some(after[start..start + len].to_string())
}

#[derive(Deserialize)]
struct GraphqlBody {
    #[serde(default)]
    query: String,
    #[serde(default)]
    variables: Value,
}

/// `POST /graphql`.
pub fn graphql(world: &mut World, ctx: &Ctx<'_>) -> Reply {
    let req: GraphqlBody = match ctx.json() {
        Ok(r) => r,
        Err(reply) => return reply,
    };
    if !req.query.contains("markPullRequestReadyForReview") {
        return Reply::ok(json!({"errors": [{
            "message": "The GitHub simulator only supports the markPullRequestReadyForReview mutation",
            "locations": [{"line": 1, "column": 1}],
        }]}));
    }
    let id = graphql_pull_id(&req.query, &req.variables).unwrap_or_default();
    match world.pull_by_node_id(&id) {
        Some(p) => {
            p.draft = false;
            p.updated_at = ctx.now;
            Reply::ok(
                json!({"data": {"markPullRequestReadyForReview": {"pullRequest": {
                    "id": id,
                    "isDraft": false,
                    "number": p.number,
                }}}}),
            )
        }
        None => Reply::ok(json!({
            "data": {"markPullRequestReadyForReview": null},
            "errors": [{
                "type": "NOT_FOUND",
                "path": ["markPullRequestReadyForReview"],
                "locations": [{"line": 1, "column": 1}],
                "message": format!("Could not resolve to a node with the global id of '{id}'"),
            }],
        })),
    }
}
