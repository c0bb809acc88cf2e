//! Every bundled scenario holds its expectations on a few seeds (fast, runs by default), and
//! over 200 seeds (`cargo test --release -- --ignored`, as the issues' "done when" asks).

mod common;

use sim::check::Verdict;

fn sweep(seeds: std::ops::Range<u64>) {
    let mut names: Vec<String> = common::bundled_files()
        .iter()
        .map(|path| path.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for name in names {
        let scenario = common::bundled(&name);
        for seed in seeds.clone() {
            let summary = common::summary(&scenario, seed);
            assert_eq!(
                summary.verdict,
                Verdict::Pass,
                "{name} seed {seed}: {:?} {:?}\nreplay: sim run scenarios/{name}.toml --seed {seed}",
                summary.problem,
                summary.expectations
            );
        }
    }
}

#[test]
fn every_scenario_holds_on_a_few_seeds() {
    sweep(0..3);
}

#[test]
#[ignore = "200 seeds of every scenario: run with --release -- --ignored"]
fn every_scenario_holds_over_200_seeds() {
    sweep(0..200);
}

#[test]
fn every_scenario_says_what_it_teaches() {
    let output = common::sim(&["list"]);
    assert_eq!(output.status.code(), Some(0));
    let listing = String::from_utf8_lossy(&output.stdout);
    for line in listing.lines() {
        assert!(line.len() > 50, "a scenario without a real summary: {line}");
    }
}

/// Every question report.html names is in the README's "Questions users ask", with the
/// scenario that answers it and where users asked it.
#[test]
fn the_readme_answers_every_question_the_reports_name() {
    let readme = std::fs::read_to_string(format!("{}/README.md", common::root())).unwrap();
    let start = readme.find("## Questions users ask").expect("the section");
    let section = &readme[start..];
    let section = &section[..section[3..]
        .find("\n## ")
        .map_or(section.len(), |end| end + 3)];
    for q in sim::report::questions::QUESTIONS {
        let file = format!("scenarios/{}.toml", q.scenario);
        assert!(section.contains(&file), "the section runs {file}");
        assert!(
            common::bundled_files()
                .iter()
                .any(|f| f.ends_with(format!("{}.toml", q.scenario))),
            "{} is bundled",
            q.scenario
        );
        if let Some(issue) = q.asked {
            assert!(section.contains(issue), "the section cites {issue}");
        }
    }
}
