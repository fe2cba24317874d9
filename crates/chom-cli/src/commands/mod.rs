pub mod fleet;
pub mod history;
pub mod keys;
pub mod servers;
pub mod sites;
