//! Unit tests of the Ansible inventory module; `real` compares with the
//! real `ansible-inventory` where it is installed.

mod export;
mod ini;
mod real;
mod resolve;
mod yaml;

use super::{parse, AnsibleError, Format, Inventory, InventoryHost};

fn read(text: &str, format: Format) -> Inventory {
    match parse(text, format) {
        Ok(inventory) => inventory,
        Err(e) => panic!("inventory did not parse: {e}\n{text}"),
    }
}

fn failure(text: &str, format: Format) -> AnsibleError {
    match parse(text, format) {
        Ok(inventory) => panic!("inventory parsed but should not have: {inventory:?}\n{text}"),
        Err(e) => e,
    }
}

fn host(inventory: &Inventory, name: &str) -> InventoryHost {
    let hosts = inventory.hosts();
    match hosts.iter().find(|h| h.name == name) {
        Some(h) => h.clone(),
        None => panic!("no host {name} in {:?}", hosts.iter().map(|h| &h.name).collect::<Vec<_>>()),
    }
}

fn names(inventory: &Inventory) -> Vec<String> {
    inventory.hosts().into_iter().map(|h| h.name).collect()
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}
