//! Address blocks of the lab handed out to whoever starts a lab, so that
//! tests running at once (threads or processes) never pick the same one:
//! a lock file per block, held for the lab's life. The lock of a holder
//! that crashed goes with its process; what it left running is skipped.

use std::fs::{self, File};
use std::ops::RangeInclusive;
use std::os::fd::AsRawFd;
use std::path::Path;

use crate::{io_err, LabError};

const DIR: &str = "/run/chom-lab/claims";

/// Blocks `first..first + count` of one kind, held until dropped.
#[derive(Debug)]
pub struct Claim {
    pub first: u8,
    _locks: Vec<File>,
}

/// Claims `count` consecutive blocks of `kind` in `range`: the first run
/// that no other holder has and where `in_use` (what a crashed lab left)
/// finds nothing.
pub fn claim(
    kind: &str,
    range: RangeInclusive<u8>,
    count: usize,
    in_use: impl Fn(u8) -> bool,
) -> Result<Claim, LabError> {
    let dir = Path::new(DIR);
    fs::create_dir_all(dir).map_err(io_err(dir))?;
    let (lo, hi) = (usize::from(*range.start()), usize::from(*range.end()));
    'next: for first in lo..=(hi + 1).saturating_sub(count) {
        let mut locks = Vec::with_capacity(count);
        for block in first..first + count {
            let path = dir.join(format!("{kind}-{block}.lock"));
            let file = File::options().create(true).truncate(false).write(true).open(&path).map_err(io_err(&path))?;
            // SAFETY: flock on a descriptor this function owns.
            let locked = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0;
            if !locked || in_use(block as u8) {
                continue 'next;
            }
            locks.push(file);
        }
        return Ok(Claim { first: first as u8, _locks: locks });
    }
    Err(LabError::NoFreeBlock { kind: kind.to_owned(), range: format!("{lo}-{hi}"), count })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_holders_never_get_the_same_block() {
        if !crate::proc::is_root() {
            return; // /run needs root; the lab tests run as root in CI
        }
        let a = claim("selftest", 10..=13, 2, |_| false).unwrap();
        let b = claim("selftest", 10..=13, 2, |_| false).unwrap();
        assert_eq!((a.first, b.first), (10, 12));
        assert!(claim("selftest", 10..=13, 1, |_| false).is_err(), "all four held");
        drop(a);
        assert_eq!(claim("selftest", 10..=13, 1, |b| b == 10).unwrap().first, 11, "a block in use is skipped");
    }
}
