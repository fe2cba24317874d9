//! The Fleet table at 50,000 servers. The app does not hold the inventory:
//! the core reads it once into an `Inventory` and answers each view of it
//! (search, filters, sort, the rows on screen) as a page. A page is a few
//! dozen rows, so the web view's memory and the IPC payload stay flat with
//! the fleet's size, and a keystroke costs a scan of precomputed lowercase
//! text in Rust instead of a JSON copy of every server. The inventory holds
//! only what filtering and sorting need (`ServerRow`); the few rows on
//! screen are read in full, by id, for each page.

use std::cmp::Ordering;
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use super::view::{is_stale, ServerView};
use super::Servers;
use crate::db::{ServerRow, ServerStatus};
use crate::error::Result;
use crate::ids::ServerId;

/// The columns the table sorts by.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum FleetColumn {
    #[default]
    Name,
    Host,
    Group,
    Tags,
    Status,
    LastSeen,
    Load1,
    MemUsedPct,
    DiskUsedPct,
    Services,
}

/// What the table shows: filters, order and the window of rows on screen.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct FleetQuery {
    /// Case-insensitive text in the name, host, tags or group.
    #[serde(default)]
    pub search: String,
    pub tag: Option<String>,
    pub group: Option<String>,
    /// up | down | unknown | host_key_changed
    pub status: Option<String>,
    #[serde(default)]
    pub sort: FleetColumn,
    #[serde(default)]
    pub descending: bool,
    /// The first matching row to return, and how many.
    #[serde(default)]
    pub offset: u32,
    #[serde(default)]
    pub limit: u32,
    /// Read the cache again first (something changed it).
    #[serde(default)]
    pub reload: bool,
}

/// One window of the filtered, sorted inventory, with what the toolbar and
/// banners need about the whole of it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct FleetPage {
    /// Index of `rows[0]` among the matching servers.
    pub offset: u32,
    pub rows: Vec<ServerView>,
    /// Servers that match the query.
    pub matched: u32,
    /// Servers in the inventory.
    pub total: u32,
    /// Every tag and group in the inventory, sorted (the filters' choices).
    pub tags: Vec<String>,
    pub groups: Vec<String>,
    /// Servers whose figures are not current (`ServerView::stale`).
    pub stale: u32,
    /// Servers whose host key changed: every operation there is stopped.
    pub host_key_changed: Vec<String>,
}

/// The inventory as read from the cache, with what filtering needs.
pub struct Inventory {
    servers: Vec<ServerRow>,
    /// Lowercase name, host, tags and group of each server, for the search.
    text: Vec<Box<str>>,
    tags: Vec<String>,
    groups: Vec<String>,
    stale: u32,
    host_key_changed: Vec<String>,
    /// Sorted orders already computed, as indexes into `servers`.
    orders: Mutex<HashMap<FleetColumn, Arc<[u32]>>>,
}

impl Inventory {
    pub fn new(servers: Vec<ServerRow>) -> Inventory {
        let text = servers
            .iter()
            .map(|s| {
                let t = format!(
                    "{}\n{}\n{}\n{}",
                    s.name,
                    s.host,
                    s.tags.replace(',', "\n"),
                    s.group.as_deref().unwrap_or("")
                );
                t.to_lowercase().into_boxed_str()
            })
            .collect();
        let tags: BTreeSet<&str> = servers.iter().flat_map(tags_of).collect();
        let groups: BTreeSet<&str> = servers.iter().filter_map(|s| s.group.as_deref()).collect();
        Inventory {
            text,
            tags: tags.into_iter().map(str::to_owned).collect(),
            groups: groups.into_iter().map(str::to_owned).collect(),
            stale: servers.iter().filter(|s| is_stale(s.status, s.probed_at)).count() as u32,
            host_key_changed: servers
                .iter()
                .filter(|s| s.status == ServerStatus::HostKeyChanged)
                .map(|s| s.name.clone())
                .collect(),
            orders: Mutex::default(),
            servers,
        }
    }

    pub fn len(&self) -> usize {
        self.servers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.servers.is_empty()
    }

    /// The servers matching `q`, in its order.
    pub fn matching<'a>(&'a self, q: &'a FleetQuery) -> impl Iterator<Item = &'a ServerRow> + 'a {
        let needle = q.search.trim().to_lowercase();
        let order = self.order(q.sort);
        let ids: Box<dyn Iterator<Item = u32>> =
            if q.descending { Box::new(OrderIter::new(order).rev()) } else { Box::new(OrderIter::new(order)) };
        ids.map(|i| i as usize).filter(move |&i| self.matches(i, &needle, q)).map(|i| &self.servers[i])
    }

    fn matches(&self, i: usize, needle: &str, q: &FleetQuery) -> bool {
        let s = &self.servers[i];
        (needle.is_empty() || self.text[i].contains(needle))
            && q.tag.as_ref().is_none_or(|t| tags_of(s).any(|x| x == t))
            && q.group.as_ref().is_none_or(|g| s.group.as_ref() == Some(g))
            && q.status.as_ref().is_none_or(|st| s.status.as_str() == st)
    }

    /// The window `q` asks for, its rows read in full by `views` (ids in
    /// the page's order).
    pub fn page(
        &self,
        q: &FleetQuery,
        views: impl FnOnce(&[ServerId]) -> Result<Vec<ServerView>>,
    ) -> Result<FleetPage> {
        let mut matched = 0u32;
        let mut ids = Vec::with_capacity(q.limit.min(500) as usize);
        let end = q.offset.saturating_add(q.limit);
        for s in self.matching(q) {
            if matched >= q.offset && matched < end {
                ids.push(s.id);
            }
            matched += 1;
        }
        Ok(FleetPage {
            offset: q.offset.min(matched),
            rows: if ids.is_empty() { Vec::new() } else { views(&ids)? },
            matched,
            total: self.servers.len() as u32,
            tags: self.tags.clone(),
            groups: self.groups.clone(),
            stale: self.stale,
            host_key_changed: self.host_key_changed.clone(),
        })
    }

    /// Ascending order by `column`; computed once per column.
    fn order(&self, column: FleetColumn) -> Arc<[u32]> {
        let mut orders = self.orders.lock().unwrap_or_else(|e| e.into_inner());
        orders
            .entry(column)
            .or_insert_with(|| {
                let mut ids: Vec<u32> = (0..self.servers.len() as u32).collect();
                ids.sort_by(|&a, &b| {
                    let (a, b) = (&self.servers[a as usize], &self.servers[b as usize]);
                    compare(column, a, b).then_with(|| natural(&a.name, &b.name))
                });
                ids.into()
            })
            .clone()
    }
}

/// Walks an `Arc<[u32]>` without copying it, both ways.
struct OrderIter {
    order: Arc<[u32]>,
    front: usize,
    back: usize,
}

impl OrderIter {
    fn new(order: Arc<[u32]>) -> OrderIter {
        let back = order.len();
        OrderIter { order, front: 0, back }
    }
}

impl Iterator for OrderIter {
    type Item = u32;
    fn next(&mut self) -> Option<u32> {
        (self.front < self.back).then(|| {
            self.front += 1;
            self.order[self.front - 1]
        })
    }
}

impl DoubleEndedIterator for OrderIter {
    fn next_back(&mut self) -> Option<u32> {
        (self.front < self.back).then(|| {
            self.back -= 1;
            self.order[self.back]
        })
    }
}

fn tags_of(s: &ServerRow) -> impl Iterator<Item = &str> {
    s.tags.split(',').filter(|t| !t.is_empty())
}

fn compare(column: FleetColumn, a: &ServerRow, b: &ServerRow) -> Ordering {
    let num = |f: fn(&ServerRow) -> Option<f64>| match (f(a), f(b)) {
        (Some(x), Some(y)) => x.total_cmp(&y),
        (x, y) => x.is_some().cmp(&y.is_some()),
    };
    match column {
        FleetColumn::Name => natural(&a.name, &b.name),
        FleetColumn::Host => natural(&a.host, &b.host),
        FleetColumn::Group => natural(a.group.as_deref().unwrap_or(""), b.group.as_deref().unwrap_or("")),
        FleetColumn::Tags => natural(&a.tags, &b.tags),
        FleetColumn::Status => a.status.as_str().cmp(b.status.as_str()),
        FleetColumn::LastSeen => a.last_seen.cmp(&b.last_seen),
        FleetColumn::Load1 => num(|s| s.load1),
        FleetColumn::MemUsedPct => num(|s| s.mem_used_pct),
        FleetColumn::DiskUsedPct => num(|s| s.disk_used_pct),
        FleetColumn::Services => natural(&a.services, &b.services),
    }
}

/// Case-insensitive order in which digit runs compare as numbers, so
/// web-9 comes before web-10 (what an operator reads as the right order).
pub fn natural(a: &str, b: &str) -> Ordering {
    let (mut x, mut y) = (a.as_bytes(), b.as_bytes());
    loop {
        match (x.first(), y.first()) {
            (None, None) => return a.cmp(b),
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(p), Some(q)) if p.is_ascii_digit() && q.is_ascii_digit() => {
                let (dx, dy) = (digits(x), digits(y));
                let (nx, ny) = (trim_zeros(&x[..dx]), trim_zeros(&y[..dy]));
                let c = nx.len().cmp(&ny.len()).then_with(|| nx.cmp(ny));
                if c != Ordering::Equal {
                    return c;
                }
                (x, y) = (&x[dx..], &y[dy..]);
            }
            (Some(p), Some(q)) => {
                let c = p.to_ascii_lowercase().cmp(&q.to_ascii_lowercase());
                if c != Ordering::Equal {
                    return c;
                }
                (x, y) = (&x[1..], &y[1..]);
            }
        }
    }
}

fn digits(s: &[u8]) -> usize {
    s.iter().take_while(|c| c.is_ascii_digit()).count()
}

fn trim_zeros(s: &[u8]) -> &[u8] {
    let zeros = s.iter().take_while(|&&c| c == b'0').count();
    &s[zeros.min(s.len().saturating_sub(1))..]
}

impl Servers<'_> {
    /// A window of the inventory as the Fleet table shows it. The inventory
    /// is read from the cache at the first call and when `q.reload` is set.
    pub fn fleet_page(&self, q: &FleetQuery) -> Result<FleetPage> {
        self.inventory(q.reload)?.page(q, |ids| self.views_by_id(ids))
    }

    /// The names of every server matching `q`, in its order (the table's
    /// "select all shown").
    pub fn fleet_names(&self, q: &FleetQuery) -> Result<Vec<String>> {
        Ok(self.inventory(q.reload)?.matching(q).map(|s| s.name.clone()).collect())
    }

    fn inventory(&self, reload: bool) -> Result<Arc<Inventory>> {
        let mut held = self.inventory.lock().unwrap_or_else(|e| e.into_inner());
        match &*held {
            Some(inv) if !reload => Ok(inv.clone()),
            _ => {
                let inv = Arc::new(Inventory::new(self.db.inventory_rows()?));
                *held = Some(inv.clone());
                release_freed_memory();
                Ok(inv)
            }
        }
    }
}

/// Reading 50,000 servers allocates several times the inventory's own
/// size in rows, probes and views that are freed at once; glibc keeps such
/// memory in its arenas unless asked to give it back, and the app would
/// carry it for its whole life.
fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free memory to the system.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(test)]
#[path = "inventory_tests.rs"]
mod tests;
