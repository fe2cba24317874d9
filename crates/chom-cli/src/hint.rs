//! How the CLI says a core `Remedy`: the command line that does it.

use chom_core::{Listing, Remedy};

pub fn hint(r: &Remedy) -> String {
    match r {
        Remedy::TrustHostKey { server, accept: Some(fingerprint) } => {
            format!("chom server trust {server} --accept {fingerprint}")
        }
        Remedy::TrustHostKey { server, accept: None } => format!("chom server trust {server}"),
        Remedy::InstallPublicKey { key, user } => {
            format!("chom key export-public {key}, into ~{user}/.ssh/authorized_keys on the server")
        }
        Remedy::SetServerKey { server } => format!("chom server edit {server} --key KEY"),
        Remedy::ResumeServer { server } => format!("chom server resume {server}"),
        Remedy::EnableSite { site } => format!("chom site enable {site}"),
        Remedy::List { what } => match what {
            Listing::Servers => "chom server list",
            Listing::Sites => "chom site list",
            Listing::Keys => "chom key list",
            Listing::Jobs => "chom jobs",
            Listing::Backups => "chom backup list",
        }
        .to_owned(),
        Remedy::AddKey => "chom key generate NAME, or chom key import NAME FILE".to_owned(),
        Remedy::ProbeAll => "chom probe --all, or choose the server with --server NAME".to_owned(),
        Remedy::OtherDataDir => "chom --data-dir DIR ...".to_owned(),
        Remedy::RaiseStepLimit { step } => format!("run it again with --step-limit {step}=SECS"),
    }
}
