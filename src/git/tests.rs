use super::*;

fn folder_with(files: &[(&str, &str)]) -> tempfile::TempDir {
    let folder = tempfile::tempdir().unwrap();
    for (path, contents) in files {
        let path = folder.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
    }
    folder
}

const AUTHOR: (&str, &str) = ("Tester", "tester@localhost");

#[test]
fn mirror_checkout_commit_and_leased_push() {
    let source = folder_with(&[
        ("src/a.py", "a = 1\n"),
        ("README.md", "hi\n"),
        (".hidden", "x"),
    ]);
    let remote_folder = tempfile::tempdir().unwrap();
    let remote = remote_folder.path().join("acme/a.git");
    let first = import_folder(source.path(), &remote, "main", AUTHOR, "Initial").unwrap();
    let url = remote.to_str().unwrap();

    let heads = remote_heads(url, None).unwrap();
    assert_eq!(heads.default_branch.as_deref(), Some("main"));
    assert_eq!(heads.branches.get("main"), Some(&first));

    let work = tempfile::tempdir().unwrap();
    let mirror = Mirror::open_or_create(&work.path().join("mirror.git")).unwrap();
    mirror.fetch(url, None).unwrap();
    assert!(mirror.has_commit(first));
    let checkout = work.path().join("checkout");
    mirror.checkout(first, &checkout).unwrap();
    assert_eq!(
        std::fs::read_to_string(checkout.join("src/a.py")).unwrap(),
        "a = 1\n"
    );
    assert!(!checkout.join(".hidden").exists());

    let message = format!("Change a\n\n{TRAILER}: demo\n");
    let changed = mirror
        .commit_files(
            first,
            &[("src/a.py".to_owned(), b"a = 2\n".to_vec())],
            AUTHOR,
            &message,
        )
        .unwrap();
    let info = mirror.commit_info(changed).unwrap();
    assert!(info.is_fleetmod("demo"));
    assert!(!info.is_fleetmod("other"));
    assert_eq!(info.parents, [first]);

    // A push expecting the branch to exist fails and changes nothing.
    let error = mirror
        .push(url, "fleetmod/demo", Some(changed), Some(first), None)
        .unwrap_err();
    assert!(matches!(error, GitError::LeaseBroken { .. }), "{error}");
    assert!(
        !remote_heads(url, None)
            .unwrap()
            .branches
            .contains_key("fleetmod/demo")
    );
    mirror
        .push(url, "fleetmod/demo", Some(changed), None, None)
        .unwrap();
    assert_eq!(
        remote_heads(url, None)
            .unwrap()
            .branches
            .get("fleetmod/demo"),
        Some(&changed)
    );

    // Merging fast-forwards main; deleting the branch needs the lease too.
    // A merge guarded on a head the branch is not at changes nothing.
    let guarded = |expected| {
        merge_branch(
            &remote,
            "main",
            "fleetmod/demo",
            MergeStyle::Merge,
            Some(expected),
            AUTHOR,
            "Merge",
        )
    };
    let error = guarded(first).unwrap_err();
    assert!(error.to_string().contains("not the expected"), "{error}");
    let merged = guarded(changed).unwrap();
    assert_eq!(merged, changed);
    assert!(
        mirror
            .push(url, "fleetmod/demo", None, Some(first), None)
            .is_err()
    );
    mirror
        .push(url, "fleetmod/demo", None, Some(changed), None)
        .unwrap();
    let heads = remote_heads(url, None).unwrap();
    assert_eq!(heads.branches.keys().collect::<Vec<_>>(), ["main"]);
}

#[test]
fn unreachable_remotes_fail_with_context() {
    let error = remote_heads("/nonexistent/acme/x.git", None).unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("failed to connect to /nonexistent/acme/x.git"),
        "{error}"
    );
}
