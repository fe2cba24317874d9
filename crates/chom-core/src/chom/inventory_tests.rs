use std::cmp::Ordering;

use chrono::Utc;

use super::*;
use crate::chom::view::ProbeSummary;

fn server(name: &str, host: &str, tags: &[&str], group: Option<&str>, status: &str, load: Option<f64>) -> ServerView {
    let now = Utc::now();
    ServerView {
        name: name.into(),
        host: host.into(),
        port: 22,
        user: "root".into(),
        key: None,
        tags: tags.iter().map(|t| t.to_string()).collect(),
        group: group.map(str::to_owned),
        notes: String::new(),
        jump: None,
        status: status.into(),
        last_seen: None,
        created_at: now,
        updated_at: now,
        probe: load.map(|l| ProbeSummary {
            at: now,
            ok: true,
            error: None,
            facts_at: Some(now),
            hostname: None,
            os: None,
            load1: Some(l),
            cpus: Some(2),
            mem_used_pct: None,
            disk_used_pct: None,
            services: Default::default(),
        }),
        connect_failures: 0,
        paused_until: None,
        stale: status == "down" || status == "host_key_changed",
    }
}

fn fleet() -> Inventory {
    Inventory::new(vec![
        server("web-10", "10.0.0.10", &["prod"], Some("eu"), "up", Some(0.5)),
        server("web-9", "10.0.0.9", &["prod", "php"], Some("eu"), "down", Some(2.0)),
        server("db-1", "10.0.1.1", &["Prod-DB"], None, "up", None),
        server("Web-100", "web100.example.com", &[], Some("us"), "host_key_changed", Some(1.0)),
    ])
}

fn names(p: &FleetPage) -> Vec<&str> {
    p.rows.iter().map(|s| s.name.as_str()).collect()
}

fn query(search: &str) -> FleetQuery {
    FleetQuery { search: search.into(), limit: 100, ..Default::default() }
}

#[test]
fn natural_order_reads_numbers_as_numbers_and_ignores_case() {
    assert_eq!(natural("web-9", "web-10"), Ordering::Less);
    assert_eq!(natural("web-10", "Web-100"), Ordering::Less);
    assert_eq!(natural("web-010", "web-9"), Ordering::Greater);
    assert_eq!(natural("a", "B"), Ordering::Less);
    assert_eq!(natural("srv", "srv-1"), Ordering::Less);
    // Equal ignoring case and leading zeros, but still a total order.
    assert_ne!(natural("web-01", "web-1"), Ordering::Equal);
    assert_eq!(natural("x", "x"), Ordering::Equal);
}

#[test]
fn the_whole_inventory_by_name_with_its_facets() {
    let p = fleet().page(&query(""));
    assert_eq!(names(&p), ["db-1", "web-9", "web-10", "Web-100"]);
    assert_eq!((p.matched, p.total, p.offset), (4, 4, 0));
    assert_eq!(p.tags, ["Prod-DB", "php", "prod"]);
    assert_eq!(p.groups, ["eu", "us"]);
    assert_eq!(p.stale, 2);
    assert_eq!(p.host_key_changed, ["Web-100"]);
}

#[test]
fn search_is_case_insensitive_over_name_host_tags_and_group() {
    let inv = fleet();
    assert_eq!(names(&inv.page(&query("WEB1"))), ["Web-100"]); // the host
    assert_eq!(names(&inv.page(&query("prod-db"))), ["db-1"]); // a tag
    assert_eq!(names(&inv.page(&query(" us "))), ["Web-100"]); // the group, trimmed
    assert_eq!(names(&inv.page(&query("php"))), ["web-9"]);
    let none = inv.page(&query("zz-nothing"));
    assert!(none.rows.is_empty());
    assert_eq!((none.matched, none.total), (0, 4));
}

#[test]
fn filters_combine_with_the_search() {
    let inv = fleet();
    let q = FleetQuery { tag: Some("prod".into()), ..query("") };
    assert_eq!(names(&inv.page(&q)), ["web-9", "web-10"]);
    let q = FleetQuery { group: Some("eu".into()), status: Some("up".into()), ..query("") };
    assert_eq!(names(&inv.page(&q)), ["web-10"]);
    // A tag filter matches whole tags only: "Prod-DB" is not "prod".
    let q = FleetQuery { tag: Some("prod".into()), ..query("db") };
    assert!(inv.page(&q).rows.is_empty());
}

#[test]
fn numeric_columns_sort_by_value_with_unknown_first_and_descending_reverses() {
    let inv = fleet();
    let q = FleetQuery { sort: FleetColumn::Load1, ..query("") };
    assert_eq!(names(&inv.page(&q)), ["db-1", "web-10", "Web-100", "web-9"]);
    let q = FleetQuery { descending: true, ..q };
    assert_eq!(names(&inv.page(&q)), ["web-9", "Web-100", "web-10", "db-1"]);
    let q = FleetQuery { sort: FleetColumn::Status, ..query("") };
    assert_eq!(names(&inv.page(&q)), ["web-9", "Web-100", "db-1", "web-10"]);
}

#[test]
fn a_page_is_a_window_of_the_matching_rows() {
    let inv = fleet();
    let p = inv.page(&FleetQuery { offset: 1, limit: 2, ..query("") });
    assert_eq!(names(&p), ["web-9", "web-10"]);
    assert_eq!((p.offset, p.matched), (1, 4));
    // Past the end: no rows, and the offset says where the rows end.
    let p = inv.page(&FleetQuery { offset: 10, limit: 2, ..query("web") });
    assert!(p.rows.is_empty());
    assert_eq!((p.offset, p.matched), (3, 3));
    // The names of everything matching, for "select all shown".
    let q = query("web");
    let all: Vec<_> = inv.matching(&q).map(|s| s.name.as_str()).collect();
    assert_eq!(all, ["web-9", "web-10", "Web-100"]);
}

#[test]
fn fifty_thousand_servers_filter_without_copying_the_inventory() {
    let servers = (0..50_000)
        .map(|i| {
            server(
                &format!("srv-{i:05}"),
                &format!("10.{}.{}.{}", i / 65536, (i / 256) % 256, i % 256),
                &["t"],
                None,
                "up",
                None,
            )
        })
        .collect();
    let inv = Inventory::new(servers);
    let p = inv.page(&FleetQuery { search: "srv-0123".into(), limit: 40, ..Default::default() });
    assert_eq!(p.matched, 10);
    assert_eq!(p.rows.first().map(|s| s.name.as_str()), Some("srv-01230"));
    let p = inv.page(&FleetQuery { sort: FleetColumn::Name, descending: true, limit: 3, ..Default::default() });
    assert_eq!(names(&p), ["srv-49999", "srv-49998", "srv-49997"]);
    assert_eq!(inv.len(), 50_000);
}
