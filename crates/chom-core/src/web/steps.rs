//! How long one step of a server-side script may run before CHOM stops the
//! script: a hung `nginx -t`, a build hook waiting on a prompt, a certbot
//! stuck on its ACME server fail in minutes, not after the script's whole
//! limit. Steps that move the site's bytes or install packages get the
//! script's limit; an operator can set any step's own.

use std::collections::HashMap;
use std::time::Duration;

use crate::validate::ValidationError;

#[derive(Debug, Clone, Default)]
pub struct StepLimits {
    /// Limits set by the operator, by step name.
    set: HashMap<String, Duration>,
}

impl StepLimits {
    /// `name=SECS`, as the operator writes it.
    pub fn set(&mut self, spec: &str) -> Result<(), ValidationError> {
        let bad = || ValidationError::new("step limit", spec, "STEP=SECONDS, e.g. build=1800");
        let (step, secs) = spec.split_once('=').ok_or_else(bad)?;
        let secs: u64 = secs.trim().parse().map_err(|_| bad())?;
        let step = step.trim();
        if secs == 0 || step.is_empty() || !step.chars().all(|c| c.is_ascii_lowercase() || c == '-' || c == '_') {
            return Err(bad());
        }
        self.set.insert(step.to_owned(), Duration::from_secs(secs));
        Ok(())
    }

    /// Step `step`'s limit; `None`: only the script's own.
    pub fn of(&self, step: &str) -> Option<Duration> {
        if let Some(set) = self.set.get(step) {
            return Some(*set);
        }
        let minutes = match step {
            // As long as the bytes take (a backup's files and dump, a
            // restore's database, a check reading a repository back), or
            // apt's mirrors.
            "upload" | "files" | "dump" | "check" | "database" | "packages" => return None,
            // The site's own code: composer, npm, migrations.
            "build" | "post-deploy" => 20,
            "certificate" | "renewal" | "wordpress-install" => 10,
            _ => 5,
        };
        Some(Duration::from_secs(minutes * 60))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_what_the_operator_sets() {
        let mut limits = StepLimits::default();
        assert_eq!(limits.of("upload"), None);
        assert_eq!(limits.of("build"), Some(Duration::from_secs(1200)));
        assert_eq!(limits.of("nginx"), Some(Duration::from_secs(300)));
        limits.set("build=2").unwrap();
        limits.set("upload=60").unwrap();
        assert_eq!(
            (limits.of("build"), limits.of("upload")),
            (Some(Duration::from_secs(2)), Some(Duration::from_secs(60)))
        );
        for bad in ["build", "build=0", "build=-1", "=5", "bu ild=5", "build=x", "$(id)=5"] {
            assert!(limits.set(bad).is_err(), "{bad}");
        }
    }
}
