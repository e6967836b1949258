use super::*;
use crate::spec::MergeMethod;

fn forge_with_repo() -> (tempfile::TempDir, LocalForge, RepoName) {
    let folder = tempfile::tempdir().unwrap();
    let plain = folder.path().join("plain/acme/billing");
    std::fs::create_dir_all(plain.join("src")).unwrap();
    std::fs::write(plain.join("src/a.py"), "x = 1\n").unwrap();
    std::fs::write(
        folder.path().join("plain").join(import::MANIFEST),
        "branches:\n  - repo: acme/billing\n    branch: feature\n    author: {name: Dana, email: dana@acme.example}\n    message: Work in progress\n    files: {src/a.py: \"x = 2\\n\"}\n",
    )
    .unwrap();
    let forge = LocalForge::open(&folder.path().join("forge")).unwrap();
    let imported = import(&forge, &folder.path().join("plain")).unwrap();
    let repo = RepoName::parse("acme/billing").unwrap();
    assert_eq!(
        imported,
        [Imported {
            repo: repo.clone(),
            created: true
        }]
    );
    (folder, forge, repo)
}

#[test]
fn imports_are_idempotent_and_carry_manifest_branches() {
    let (folder, forge, repo) = forge_with_repo();
    let again = import(&forge, &folder.path().join("plain")).unwrap();
    assert!(!again[0].created);
    assert_eq!(forge.repositories(), std::slice::from_ref(&repo));
    let info = forge.repository(&repo).unwrap();
    assert_eq!(info.default_branch, "main");
    assert!(!info.archived);
    let heads = crate::git::remote_heads(&info.clone_url, None).unwrap();
    assert_eq!(
        heads.branches.keys().collect::<Vec<_>>(),
        ["feature", "main"]
    );
    forge.set_archived(&repo, true).unwrap();
    assert!(forge.repository(&repo).unwrap().archived);
    let missing = RepoName::parse("acme/nope").unwrap();
    assert!(matches!(
        forge.repository(&missing),
        Err(ForgeError::NoRepository { .. })
    ));
}

#[test]
fn pull_requests_open_once_per_head_and_merge() {
    let (_folder, forge, repo) = forge_with_repo();
    let labels = vec!["data".to_owned()];
    let request = NewPullRequest {
        head: "feature",
        base: "main",
        title: "Title",
        body: "Body",
        labels: &labels,
        assignees: &[],
        reviewers: &[],
        draft: false,
    };
    let pull = forge.create_pull_request(&repo, &request).unwrap();
    assert_eq!((pull.number, pull.state), (1, PullRequestState::Open));
    let duplicate = forge.create_pull_request(&repo, &request).unwrap_err();
    assert!(
        duplicate.to_string().contains("already open"),
        "{duplicate}"
    );
    let missing = NewPullRequest {
        head: "nope",
        ..request.clone()
    };
    assert!(forge.create_pull_request(&repo, &missing).is_err());

    forge
        .update_pull_request(&repo, 1, "New title", "New body", &[])
        .unwrap();
    forge.comment(&repo, 1, "hello").unwrap();
    let found = forge.find_pull_request(&repo, "feature").unwrap().unwrap();
    assert_eq!(
        (found.title.as_str(), found.comments.len()),
        ("New title", 1)
    );
    assert!(found.labels.is_empty());

    let merged = forge
        .merge_pull_request(&repo, 1, MergeMethod::Merge, None)
        .unwrap();
    assert_eq!(merged.state, PullRequestState::Merged);
    assert!(
        forge
            .merge_pull_request(&repo, 1, MergeMethod::Merge, None)
            .is_err()
    );
    let heads =
        crate::git::remote_heads(&forge.repository(&repo).unwrap().clone_url, None).unwrap();
    assert_eq!(heads.branches["main"], heads.branches["feature"]);

    // After a merge, a new pull request for the same head gets the next number.
    let second = forge.create_pull_request(&repo, &request).unwrap();
    assert_eq!(second.number, 2);
    forge.close_pull_request(&repo, 2).unwrap();
    assert_eq!(forge.pull_requests().unwrap().len(), 2);
    assert!(matches!(
        forge.pull_request(&repo, 9),
        Err(ForgeError::NoPullRequest { .. })
    ));
}

#[test]
fn squash_and_rebase_merges_are_guarded_on_the_head() {
    for method in [MergeMethod::Squash, MergeMethod::Rebase] {
        let (_folder, forge, repo) = forge_with_repo();
        let request = NewPullRequest {
            head: "feature",
            base: "main",
            title: "Feature",
            body: "",
            labels: &[],
            assignees: &[],
            reviewers: &[],
            draft: false,
        };
        forge.create_pull_request(&repo, &request).unwrap();
        forge.set_checks(&repo, 1, Checks::Success).unwrap();
        forge
            .set_review(&repo, 1, ReviewDecision::Approved)
            .unwrap();
        let status = forge.status(&repo, 1).unwrap();
        assert_eq!(
            (status.checks, status.review),
            (Checks::Success, ReviewDecision::Approved)
        );
        let bare = git2::Repository::open_bare(forge.repository_path(&repo)).unwrap();
        let commit_of = |branch: &str| {
            bare.find_commit(bare.refname_to_id(&format!("refs/heads/{branch}")).unwrap())
                .unwrap()
        };
        let (main, feature) = (commit_of("main"), commit_of("feature"));
        assert_eq!(status.head_sha, Some(feature.id().to_string()));
        // Another head than the one named: refused, nothing moves.
        let error = forge
            .merge(&repo, 1, method, &main.id().to_string())
            .unwrap_err();
        assert!(error.to_string().contains("not the expected"), "{error}");
        assert_eq!(commit_of("main").id(), main.id());
        forge
            .merge(&repo, 1, method, &feature.id().to_string())
            .unwrap();
        let merged = commit_of("main");
        assert_eq!(merged.parent_ids().collect::<Vec<_>>(), [main.id()]);
        assert_eq!(merged.tree_id(), feature.tree_id());
        let author = if method == MergeMethod::Rebase {
            "Dana"
        } else {
            "Local forge"
        };
        assert_eq!(merged.author().name(), Ok(author), "{method:?}");
        assert_eq!(
            forge.pull_request(&repo, 1).unwrap().state,
            PullRequestState::Merged
        );
    }
}
