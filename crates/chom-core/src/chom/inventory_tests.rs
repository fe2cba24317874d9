use std::cmp::Ordering;

use chrono::Utc;

use super::*;

fn server(
    name: &str,
    host: &str,
    tags: &[&str],
    group: Option<&str>,
    status: ServerStatus,
    load: Option<f64>,
) -> ServerRow {
    let mut tags: Vec<&str> = tags.to_vec();
    tags.sort();
    ServerRow {
        id: ServerId(0),
        name: name.into(),
        user: "root".into(),
        host: host.into(),
        port: 22,
        group: group.map(str::to_owned),
        tags: tags.join(","),
        status,
        last_seen: None,
        open_until: None,
        load1: load,
        mem_used_pct: None,
        disk_used_pct: None,
        probed_at: load.map(|_| Utc::now()),
        services: String::new(),
    }
}

/// An inventory of `rows` (their ids set in order), and its pages with
/// each row's view made from the row (the app reads them from the cache).
struct Fleet {
    inv: Inventory,
    rows: Vec<ServerRow>,
}

impl Fleet {
    fn of(mut rows: Vec<ServerRow>) -> Fleet {
        for (i, r) in rows.iter_mut().enumerate() {
            r.id = ServerId(i as i64 + 1);
        }
        Fleet { inv: Inventory::new(rows.clone()), rows }
    }

    fn page(&self, q: &FleetQuery) -> FleetPage {
        let view = |id: &ServerId| {
            let r = &self.rows[id.0 as usize - 1];
            let now = Utc::now();
            ServerView {
                name: r.name.clone(),
                host: r.host.clone(),
                port: r.port,
                user: r.user.clone(),
                key: None,
                tags: r.tags.split(',').filter(|t| !t.is_empty()).map(str::to_owned).collect(),
                group: r.group.clone(),
                notes: String::new(),
                jump: None,
                status: r.status.as_str().into(),
                last_seen: r.last_seen,
                created_at: now,
                updated_at: now,
                probe: None,
                connect_failures: 0,
                paused_until: None,
                stale: is_stale(r.status, r.probed_at),
            }
        };
        self.inv.page(q, |ids| Ok(ids.iter().map(view).collect())).unwrap()
    }
}

impl std::ops::Deref for Fleet {
    type Target = Inventory;
    fn deref(&self) -> &Inventory {
        &self.inv
    }
}

fn fleet() -> Fleet {
    use ServerStatus::*;
    Fleet::of(vec![
        server("web-10", "10.0.0.10", &["prod"], Some("eu"), Up, Some(0.5)),
        server("web-9", "10.0.0.9", &["prod", "php"], Some("eu"), Down, Some(2.0)),
        server("db-1", "10.0.1.1", &["Prod-DB"], None, Up, None),
        server("Web-100", "web100.example.com", &[], Some("us"), HostKeyChanged, Some(1.0)),
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
                ServerStatus::Up,
                None,
            )
        })
        .collect();
    let inv = Fleet::of(servers);
    let p = inv.page(&FleetQuery { search: "srv-0123".into(), limit: 40, ..Default::default() });
    assert_eq!(p.matched, 10);
    assert_eq!(p.rows.first().map(|s| s.name.as_str()), Some("srv-01230"));
    let p = inv.page(&FleetQuery { sort: FleetColumn::Name, descending: true, limit: 3, ..Default::default() });
    assert_eq!(names(&p), ["srv-49999", "srv-49998", "srv-49997"]);
    assert_eq!(inv.len(), 50_000);
}

#[test]
fn the_services_column_sorts_by_what_each_server_runs() {
    let with = |name: &str, services: &str| ServerRow {
        services: services.into(),
        ..server(name, "h", &[], None, ServerStatus::Up, Some(1.0))
    };
    let f = Fleet::of(vec![with("a", "nginx php-fpm"), with("b", "mariadb nginx"), with("c", "")]);
    let q = FleetQuery { sort: FleetColumn::Services, ..query("") };
    assert_eq!(names(&f.page(&q)), ["c", "b", "a"]);
}
