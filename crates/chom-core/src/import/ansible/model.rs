//! The inventory as Ansible's `InventoryData` holds it (groups, hosts,
//! children, variables), and the per-host resolution of its variables.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::{proxy, AnsibleError, Location, Value};

pub(crate) const ALL: usize = 0;
pub(crate) const UNGROUPED: usize = 1;

/// A parsed inventory: every host with its connection settings resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct Inventory {
    hosts: Vec<InventoryHost>,
    groups: Vec<String>,
}

impl Inventory {
    /// The hosts, in the order the inventory first names them.
    pub fn hosts(&self) -> Vec<InventoryHost> {
        self.hosts.clone()
    }

    /// Every group but `all` and `ungrouped`, sorted, empty ones included.
    pub fn groups(&self) -> Vec<String> {
        self.groups.clone()
    }
}

/// One host, as Ansible would connect to it.
#[derive(Debug, Clone, PartialEq)]
pub struct InventoryHost {
    /// The inventory name (`inventory_hostname`).
    pub name: String,
    /// `ansible_host`, or the name when it is not set.
    pub host: String,
    pub port: Option<u16>,
    pub user: Option<String>,
    /// A jump host in `ssh -J` syntax (`user@bastion:2222`, or a
    /// comma-separated chain) from `ansible_ssh_common_args` /
    /// `ansible_ssh_extra_args`.
    pub proxy_jump: Option<String>,
    /// A `ProxyCommand` from those arguments that is not a plain jump
    /// through another ssh (so it can not be expressed as `proxy_jump`).
    pub proxy_command: Option<String>,
    /// Every group the host is in, directly or through `children`; sorted,
    /// without `all` and `ungrouped`.
    pub groups: Vec<String>,
    /// All of the host's variables after precedence.
    pub vars: BTreeMap<String, Value>,
}

#[derive(Debug)]
struct Group {
    name: String,
    vars: BTreeMap<String, Value>,
    children: Vec<usize>,
    parents: Vec<usize>,
    hosts: Vec<usize>,
    priority: i64,
}

#[derive(Debug)]
struct Host {
    name: String,
    vars: BTreeMap<String, Value>,
}

/// `ansible_group_priority` was set to something `int()` refuses.
#[derive(Debug)]
pub(crate) struct BadPriority;

#[derive(Debug)]
pub(crate) struct Graph {
    groups: Vec<Group>,
    group_ids: HashMap<String, usize>,
    hosts: Vec<Host>,
    host_ids: HashMap<String, usize>,
}

impl Graph {
    pub(crate) fn new() -> Self {
        let mut graph =
            Graph { groups: Vec::new(), group_ids: HashMap::new(), hosts: Vec::new(), host_ids: HashMap::new() };
        graph.add_group("all");
        graph.add_group("ungrouped");
        graph
    }

    pub(crate) fn group(&self, name: &str) -> Option<usize> {
        self.group_ids.get(name).copied()
    }

    pub(crate) fn group_name(&self, id: usize) -> &str {
        &self.groups[id].name
    }

    pub(crate) fn add_group(&mut self, name: &str) -> usize {
        if let Some(id) = self.group(name) {
            return id;
        }
        let id = self.groups.len();
        self.groups.push(Group {
            name: name.to_owned(),
            vars: BTreeMap::new(),
            children: Vec::new(),
            parents: Vec::new(),
            hosts: Vec::new(),
            priority: 1,
        });
        self.group_ids.insert(name.to_owned(), id);
        id
    }

    /// Adds the host (if new) to `group`. As in Ansible, a port given for a
    /// host that already exists is ignored, and port 0 sets none.
    pub(crate) fn add_host(&mut self, name: &str, group: usize, port: Option<&Value>) -> usize {
        let id = match self.host_ids.get(name) {
            Some(id) => *id,
            None => {
                let mut vars = BTreeMap::new();
                if let Some(port) = port.filter(|p| **p != Value::Int(0)) {
                    vars.insert("ansible_port".to_owned(), port.clone());
                }
                self.hosts.push(Host { name: name.to_owned(), vars });
                self.host_ids.insert(name.to_owned(), self.hosts.len() - 1);
                self.hosts.len() - 1
            }
        };
        if !self.groups[group].hosts.contains(&id) {
            self.groups[group].hosts.push(id);
        }
        id
    }

    pub(crate) fn set_host_var(&mut self, host: usize, key: &str, value: Value) {
        self.hosts[host].vars.insert(key.to_owned(), value);
    }

    /// `ansible_group_priority` is not a variable but the group's rank
    /// among groups of the same depth.
    pub(crate) fn set_group_var(&mut self, group: usize, key: &str, value: Value) -> Result<(), BadPriority> {
        if key == "ansible_group_priority" {
            self.groups[group].priority = match &value {
                Value::Int(n) => *n,
                Value::Bool(b) => i64::from(*b),
                Value::Float(x) if x.is_finite() => x.trunc() as i64,
                Value::String(s) => s.trim().replace('_', "").parse().map_err(|_| BadPriority)?,
                _ => return Err(BadPriority),
            };
        } else {
            self.groups[group].vars.insert(key.to_owned(), value);
        }
        Ok(())
    }

    fn ancestors(&self, group: usize) -> BTreeSet<usize> {
        let mut seen = BTreeSet::new();
        let mut todo = self.groups[group].parents.clone();
        while let Some(g) = todo.pop() {
            if seen.insert(g) {
                todo.extend(&self.groups[g].parents);
            }
        }
        seen
    }

    /// Children from `from` down to `to`, both included.
    fn path_down(&self, from: usize, to: usize) -> Option<Vec<usize>> {
        // Breadth first, without recursion: chains of groups can be long.
        let mut came_from: HashMap<usize, usize> = HashMap::new();
        let mut queue = std::collections::VecDeque::from([from]);
        while let Some(g) = queue.pop_front() {
            if g == to {
                let mut path = vec![to];
                while let Some(prev) = came_from.get(path.last()?) {
                    path.push(*prev);
                }
                path.reverse();
                return Some(path);
            }
            for c in &self.groups[g].children {
                if *c != from && !came_from.contains_key(c) {
                    came_from.insert(*c, g);
                    queue.push_back(*c);
                }
            }
        }
        None
    }

    /// Makes `child` a child group of `parent`, refusing an edge that
    /// closes a cycle (the error lists it, starting and ending at `parent`).
    pub(crate) fn add_child(&mut self, parent: usize, child: usize) -> Result<(), Vec<String>> {
        let names = |ids: &[usize]| ids.iter().map(|g| self.groups[*g].name.clone()).collect::<Vec<_>>();
        if parent == child {
            return Err(names(&[parent, parent]));
        }
        if child == ALL {
            // Every group ends up under `all`, so `all` below any group is
            // always a loop; Ansible finds it only at the end.
            return Err(names(&[parent, ALL, parent]));
        }
        if self.groups[parent].children.contains(&child) {
            return Ok(());
        }
        // Searching down from the child is cheap where it matters: a group
        // is usually listed as a child before it has children of its own.
        if let Some(path) = self.path_down(child, parent) {
            let mut cycle = vec![parent];
            cycle.extend(path);
            return Err(names(&cycle));
        }
        self.groups[parent].children.push(child);
        self.groups[child].parents.push(parent);
        Ok(())
    }

    /// The longest path from `all`, which is how Ansible's `depth` ends up.
    fn depths(&self) -> Vec<usize> {
        // In topological order from `all` (the graph is acyclic and, once
        // reconciled, every group is below `all`).
        let mut depth = vec![0; self.groups.len()];
        let mut waiting: Vec<usize> = self.groups.iter().map(|g| g.parents.len()).collect();
        let mut ready = vec![ALL];
        while let Some(g) = ready.pop() {
            for c in &self.groups[g].children {
                depth[*c] = depth[*c].max(depth[g] + 1);
                waiting[*c] = waiting[*c].saturating_sub(1);
                if waiting[*c] == 0 {
                    ready.push(*c);
                }
            }
        }
        depth
    }

    /// `reconcile_inventory` (top groups under `all`, lone hosts in
    /// `ungrouped`), then each host's variables by Ansible's precedence.
    pub(crate) fn finish(mut self) -> Result<Inventory, AnsibleError> {
        for g in 1..self.groups.len() {
            if self.groups[g].parents.is_empty() {
                self.groups[ALL].children.push(g);
                self.groups[g].parents.push(ALL);
            }
        }
        let mut direct: Vec<Vec<usize>> = vec![Vec::new(); self.hosts.len()];
        for (g, group) in self.groups.iter().enumerate() {
            for h in &group.hosts {
                direct[*h].push(g);
            }
        }
        let membership: Vec<BTreeSet<usize>> = direct
            .iter()
            .map(|groups| {
                let mut all: BTreeSet<usize> = groups.iter().copied().collect();
                for g in groups {
                    all.extend(self.ancestors(*g));
                }
                all
            })
            .collect();
        for (h, groups) in membership.iter().enumerate() {
            let others = groups.iter().any(|g| *g != ALL && *g != UNGROUPED);
            if groups.contains(&UNGROUPED) {
                if others {
                    self.groups[UNGROUPED].hosts.retain(|x| *x != h);
                }
            } else if !others {
                self.groups[UNGROUPED].hosts.push(h);
            }
        }
        let depths = self.depths();
        let mut hosts = Vec::with_capacity(self.hosts.len());
        for (h, host) in self.hosts.iter().enumerate() {
            // `ungrouped` counts only if the host is still in it (see above).
            let mut groups: Vec<usize> =
                membership[h].iter().copied().filter(|g| *g != ALL && *g != UNGROUPED).collect();
            if self.groups[UNGROUPED].hosts.contains(&h) {
                groups.push(UNGROUPED);
            }
            groups.sort_by(|a, b| {
                let key = |g: &usize| (depths[*g], self.groups[*g].priority, &self.groups[*g].name);
                key(a).cmp(&key(b))
            });
            let mut vars = self.groups[ALL].vars.clone();
            for g in &groups {
                vars.extend(self.groups[*g].vars.clone());
            }
            vars.extend(host.vars.clone());
            let names = groups.iter().filter(|g| **g != UNGROUPED).map(|g| self.groups[*g].name.clone()).collect();
            hosts.push(resolve(&host.name, vars, names)?);
        }
        let mut groups: Vec<String> = self.groups.iter().skip(UNGROUPED + 1).map(|g| g.name.clone()).collect();
        groups.sort();
        Ok(Inventory { hosts, groups })
    }
}

/// The first of `names` that is set and not null. Ansible's ssh plugin
/// lists `ansible_host` before `ansible_ssh_host` and lets the last one
/// found win, hence the reversed order here.
fn first_set<'a>(vars: &'a BTreeMap<String, Value>, names: [&'static str; 2]) -> Option<(&'static str, &'a Value)> {
    names.into_iter().find_map(|n| vars.get(n).filter(|v| **v != Value::Null).map(|v| (n, v)))
}

fn resolve(name: &str, vars: BTreeMap<String, Value>, mut groups: Vec<String>) -> Result<InventoryHost, AnsibleError> {
    let invalid = |var: &'static str, value: &Value, expected: &'static str| AnsibleError::InvalidVar {
        at: Location::Host(name.to_owned()),
        var,
        value: value.to_string(),
        expected,
    };
    let host = match first_set(&vars, ["ansible_ssh_host", "ansible_host"]) {
        None => name.to_owned(),
        Some((_, Value::String(s))) if !s.is_empty() => s.clone(),
        Some((_, Value::Int(n))) => n.to_string(),
        Some((var, value)) => return Err(invalid(var, value, "a host name or address")),
    };
    let port = match first_set(&vars, ["ansible_ssh_port", "ansible_port"]) {
        None => None,
        Some((var, value)) => {
            let n = match value {
                Value::Int(n) => u16::try_from(*n).ok(),
                Value::String(s) => s.trim().parse::<u16>().ok(),
                _ => None,
            };
            Some(n.filter(|n| *n > 0).ok_or_else(|| invalid(var, value, "a port from 1 to 65535"))?)
        }
    };
    let user = match first_set(&vars, ["ansible_ssh_user", "ansible_user"]) {
        None => None,
        // ssh gets no `-o User=` for an empty user, as for none.
        Some((_, Value::String(s))) => Some(s.clone()).filter(|s| !s.is_empty()),
        Some((_, Value::Int(n))) => Some(n.to_string()),
        Some((var, value)) => return Err(invalid(var, value, "a user name")),
    };
    let args = ["ansible_ssh_common_args", "ansible_ssh_extra_args"].map(|k| vars.get(k).and_then(Value::as_str));
    let proxy = proxy::from_ssh_args(args.iter().flatten().copied());
    groups.sort();
    groups.dedup();
    Ok(InventoryHost {
        name: name.to_owned(),
        host,
        port,
        user,
        proxy_jump: proxy.jump,
        proxy_command: proxy.command,
        groups,
        vars,
    })
}
