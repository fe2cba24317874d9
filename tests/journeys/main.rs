//! Journeys against real OpenSSH servers (the lab fleet) and the real OS
//! keyring, through the `chom` binary. Each test uses its own lab subnet
//! (127.S.x.y) and data directory, so they run in parallel.
//! Run them with scripts/test.sh (root, D-Bus session, gnome-keyring).

mod agent;
mod backup_failures;
mod backups;
mod compromised;
mod compromised_old;
mod copy_key;
mod deploy_cutoffs;
mod failures;
mod hostile;
mod import;
mod jump;
mod keys;
mod kills;
mod laravel;
mod pacing;
mod pool;
mod probe;
mod restart;
mod restore;
mod restore_path;
mod retention;
mod retries;
mod reuse;
mod rotate;
mod schedule;
mod secrets;
mod site_failures;
mod sites;
mod transfers;
mod trust;
