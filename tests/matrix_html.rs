//! `sim matrix --html FILE`: the table as a page whose every cell links an example run's
//! report, written beside the page.

mod common;

#[test]
fn every_cell_links_a_report_that_exists() {
    let dir = std::env::temp_dir().join(format!("rmq-sim-matrix-{}", std::process::id()));
    let page = dir.join("matrix.html");
    let page_arg = page.to_string_lossy().into_owned();
    let file = "scenarios/reliability-matrix.toml";
    let out = common::sim(&["matrix", file, "--seeds", "0..2", "--html", &page_arg]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&page).expect("the page is written");
    let links: Vec<&str> = text
        .split("<a href=\"")
        .skip(1)
        .map(|rest| &rest[..rest.find('"').expect("a closed href")])
        .collect();
    assert_eq!(links.len(), 15, "one link per cell");
    assert!(text.contains("Left out: flush=sync,replication=dledger: a DLedger group"));
    for link in &links {
        let report = std::fs::read_to_string(dir.join(link)).expect("the linked report exists");
        assert!(
            report.contains("id=\"payload\""),
            "{link} is a run's report"
        );
    }
    assert!(text.contains("<td>power-off</td>") && text.contains("class=\"lossy\""));
    let again = common::sim(&["matrix", file, "--seeds", "0..1", "--html", &page_arg]);
    assert_eq!(
        again.status.code(),
        Some(2),
        "the page exists: --force writes over it"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_page_name_without_html_is_bad_usage() {
    let file = "scenarios/reliability-matrix.toml";
    let out = common::sim(&["matrix", file, "--seeds", "0..1", "--html", "reports/out/m"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--html reports/out/m: give a file name ending in .html"),
        "{err}"
    );
}
