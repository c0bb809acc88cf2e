//! A broker group's retention keys (`file_reserved_time`, `delete_when`,
//! `disk_max_used_space_ratio`, `clean_resource_interval`, `clean_file_forcibly`) and its
//! machines' `disk` size.

use super::{Checker, broker_group_path};
use crate::scenario::error::ScenarioError;
use crate::scenario::resolved::Retention;
use crate::scenario::schema::BrokerGroupSection;

pub(super) fn resolve(
    check: &Checker<'_>,
    index: usize,
    group: &BrokerGroupSection,
) -> Result<Retention, Box<ScenarioError>> {
    let path = |field| broker_group_path(index, field);
    if group.file_reserved_time.0 < 1_000 {
        return Err(check.error(&path("file_reserved_time"), "must be at least 1s", None));
    }
    let hours = group.delete_when.split(';');
    if let Some(bad) = hours
        .clone()
        .find(|h| !h.trim().parse::<u8>().is_ok_and(|h| h < 24))
    {
        return Err(check.error(
            &path("delete_when"),
            format!("`{bad}` is not an hour of the day (0 to 23)"),
            Some("hours separated by `;`, e.g. \"04\" or \"03;15\"".into()),
        ));
    }
    let ratio = group.disk_max_used_space_ratio;
    if !(10..=95).contains(&ratio) {
        return Err(check.error(
            &path("disk_max_used_space_ratio"),
            format!("{ratio} is not a percent from 10 to 95 (RocketMQ clamps to that range)"),
            None,
        ));
    }
    if group.clean_resource_interval.0 < 1_000 {
        return Err(check.error(
            &path("clean_resource_interval"),
            "must be at least 1s",
            None,
        ));
    }
    if group
        .disk
        .is_some_and(|disk| disk.0 < group.commit_log_file_size.0 * 2)
    {
        return Err(check.error(
            &path("disk"),
            "must hold at least two commitlog files",
            None,
        ));
    }
    Ok(Retention {
        file_reserved_time_ms: group.file_reserved_time.0,
        delete_when: group.delete_when.clone(),
        disk_max_used_space_percent: ratio,
        clean_resource_interval_ms: group.clean_resource_interval.0,
        clean_file_forcibly: group.clean_file_forcibly,
        disk_bytes: group.disk.map(|disk| disk.0),
    })
}
