//! Placement: the server with the most free capacity for a new site, from
//! the latest probe of each server, with the reason in words.

#[derive(Debug, Clone)]
pub struct Candidate {
    pub name: String,
    pub disk_free: u64,
    pub mem_available: u64,
    pub sites: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Choice {
    pub name: String,
    pub explanation: String,
}

/// Each of free disk, available memory and (few) sites counts equally:
/// each is scaled to 0..1 against the best candidate, then summed.
fn scores(cands: &[Candidate]) -> Vec<f64> {
    let max_disk = cands.iter().map(|c| c.disk_free).max().unwrap_or(0).max(1) as f64;
    let max_mem = cands.iter().map(|c| c.mem_available).max().unwrap_or(0).max(1) as f64;
    let max_sites = cands.iter().map(|c| c.sites).max().unwrap_or(0) as f64;
    cands
        .iter()
        .map(|c| {
            c.disk_free as f64 / max_disk + c.mem_available as f64 / max_mem + 1.0 - c.sites as f64 / (max_sites + 1.0)
        })
        .collect()
}

fn gib(bytes: u64) -> String {
    format!("{:.1} GiB", bytes as f64 / (1u64 << 30) as f64)
}

fn describe(c: &Candidate) -> String {
    let sites = if c.sites == 1 { "1 site".to_owned() } else { format!("{} sites", c.sites) };
    format!("{} disk free, {} memory available, {sites}", gib(c.disk_free), gib(c.mem_available))
}

pub fn choose(cands: &[Candidate]) -> Option<Choice> {
    let s = scores(cands);
    let mut order: Vec<usize> = (0..cands.len()).collect();
    // Best score first; ties go to the name, so the choice is stable.
    order.sort_by(|&a, &b| s[b].total_cmp(&s[a]).then_with(|| cands[a].name.cmp(&cands[b].name)));
    let best = *order.first()?;
    let mut explanation =
        format!("placed on {}: {} (score {:.2} of 3)", cands[best].name, describe(&cands[best]), s[best]);
    if let Some(&next) = order.get(1) {
        explanation.push_str(&format!(
            "; next best {}: {} (score {:.2})",
            cands[next].name,
            describe(&cands[next]),
            s[next]
        ));
    }
    Some(Choice { name: cands[best].name.clone(), explanation })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(name: &str, disk_gib: u64, mem_gib: u64, sites: u32) -> Candidate {
        Candidate { name: name.into(), disk_free: disk_gib << 30, mem_available: mem_gib << 30, sites }
    }

    #[test]
    fn most_free_capacity_wins_and_the_reason_names_it() {
        let choice = choose(&[c("small", 10, 1, 0), c("big", 80, 8, 3), c("busy", 80, 8, 9)]).unwrap();
        assert_eq!(choice.name, "big");
        assert!(
            choice.explanation.starts_with("placed on big: 80.0 GiB disk free, 8.0 GiB memory available, 3 sites"),
            "{}",
            choice.explanation
        );
        assert!(choice.explanation.contains("next best busy"), "{}", choice.explanation);
        // Same capacity: fewer sites wins.
        assert_eq!(choose(&[c("a", 50, 4, 5), c("b", 50, 4, 1)]).unwrap().name, "b");
        assert_eq!(choose(&[]), None);
    }
}
