//! What a deploy ended as, from what its script reported and how it
//! stopped: a pure function, so each way a deploy can end is a unit test.
//! Only a deploy stopped by its connection or the operator needs the
//! server asked again (`needs_asking`); the caller does that and passes
//! the answer in.

use crate::db::DeployState;
use crate::error::{Error, Result};
use crate::web::script::Report;
use crate::web::WebError;

use super::remote::stopped_by;

/// The deploy being settled.
pub(super) struct Attempt<'a> {
    pub site: &'a str,
    pub server: &'a str,
    pub release: &'a str,
    /// The release that served when it started.
    pub previous: Option<&'a str>,
}

/// What the deploy row, the cache and the caller are told.
#[derive(Debug)]
pub(super) struct Outcome {
    pub state: DeployState,
    /// The release the cache records as live; `None` leaves it as it is.
    pub live: Option<String>,
    /// The deploy row's message ("" when it went live as asked).
    pub message: String,
    pub result: Result<()>,
}

/// Whether the server must be asked what serves before `outcome`: the
/// script stopped without saying (a lost connection, a cancel).
pub(super) fn needs_asking(report: &Report, result: &Result<()>) -> bool {
    report.value("locked").is_none()
        && matches!(result, Err(Error::Ssh(_) | Error::Cancelled | Error::Web(WebError::StepTimedOut { .. })))
}

/// `serving_now`: when `needs_asking`, the release the server serves now
/// (`None`: nothing, or it could not be asked).
pub(super) fn outcome(a: &Attempt, report: &Report, result: Result<()>, serving_now: Option<&str>) -> Outcome {
    let failed = |e: WebError, live: Option<String>| Outcome {
        state: DeployState::Failed,
        live,
        message: e.to_string(),
        result: Err(e.into()),
    };
    match result {
        Ok(()) => Outcome {
            state: DeployState::Live,
            live: Some(a.release.to_owned()),
            message: String::new(),
            result: Ok(()),
        },
        Err(_) if report.value("locked").is_some() => failed(
            WebError::Locked {
                site: a.site.to_owned(),
                server: a.server.to_owned(),
                holder: report.value("holder").unwrap_or("another CHOM").to_owned(),
            },
            None,
        ),
        Err(Error::Web(WebError::Remote { detail, .. })) if matches!(report.last_step(), Some("health" | "verify")) => {
            let detail = format!("{detail}; page: {}", report.value("health_body").unwrap_or("").trim());
            let (site, release) = (a.site.to_owned(), a.release.to_owned());
            if report.last_step() == Some("health") {
                let serving = a.previous.unwrap_or("none").to_owned();
                failed(WebError::HealthCheck { site, release, serving, detail }, None)
            } else {
                // Failed once live: the script switched back to what it names.
                let serving = report.value("release").unwrap_or("none").to_owned();
                let live = (serving != "none").then(|| serving.clone());
                failed(WebError::LiveCheck { site, release, serving, detail }, live)
            }
        }
        Err(e @ (Error::Ssh(_) | Error::Cancelled | Error::Web(WebError::StepTimedOut { .. }))) => {
            let (what, release) = (stopped_by(&e), a.release);
            let step = report.last_step().unwrap_or("start");
            let message = match serving_now {
                Some(cur) if cur == release => {
                    format!("{what} after the switch (step {step}); release {release} is live")
                }
                Some(cur) => {
                    format!("{what} during step {step}; release {cur} keeps serving, {release} never went live")
                }
                None => format!("{what} during step {step}; the server could not be asked what serves now ({e})"),
            };
            let state = match (serving_now == Some(release), &e) {
                (true, _) => DeployState::Live,
                (false, Error::Cancelled) => DeployState::Cancelled,
                (false, _) => DeployState::Interrupted,
            };
            let result = match e {
                Error::Cancelled => Err(WebError::Cancelled(message.clone()).into()),
                e => Err(e),
            };
            Outcome { state, live: serving_now.map(str::to_owned), message, result }
        }
        Err(Error::Web(WebError::Remote { detail, .. }))
            if report.value("release").is_none() && report.value("previous").is_some() =>
        {
            // Failed before the switch (upload, build): say what serves.
            let serving = match a.previous {
                Some(p) => format!("release {p} keeps serving"),
                None => "no release served before it".to_owned(),
            };
            let step = report.last_step().unwrap_or("start").to_owned();
            let (site, release) = (a.site.to_owned(), a.release.to_owned());
            failed(WebError::NotLive { site, release, step, serving, detail }, None)
        }
        Err(e) => {
            // A failure after the switch (a post-deploy hook) leaves the
            // new release live: the cache says so.
            let live = report.value("release").map(str::to_owned);
            let state = if live.as_deref() == Some(a.release) { DeployState::Live } else { DeployState::Failed };
            Outcome { state, live, message: e.to_string(), result: Err(e) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ssh::SshError;
    use crate::web::RemoteEvent;

    const A: Attempt = Attempt { site: "a.test", server: "web0", release: "r2", previous: Some("r1") };

    fn report(events: &[(&str, &str)]) -> Report {
        let mut r = Report::default();
        for (k, v) in events {
            r.events.push(match *k {
                "step" => RemoteEvent::Step(v.to_string()),
                key => RemoteEvent::Value(key.to_owned(), v.to_string()),
            });
        }
        r
    }

    fn remote(detail: &str) -> Result<()> {
        Err(WebError::Remote { server: "web0".into(), what: "deploy".into(), detail: detail.into() }.into())
    }

    fn lost() -> Result<()> {
        Err(SshError::Disconnected { server: "web0".into(), detail: "reset".into() }.into())
    }

    #[test]
    fn a_deploy_that_went_live_is_live() {
        let o = outcome(&A, &report(&[("previous", "r1"), ("step", "switch"), ("release", "r2")]), Ok(()), None);
        assert_eq!((o.state, o.live.as_deref(), o.message.as_str()), (DeployState::Live, Some("r2"), ""));
        assert!(o.result.is_ok());
    }

    #[test]
    fn a_failed_health_check_leaves_the_previous_release_and_the_cache_alone() {
        let r = report(&[("previous", "r1"), ("step", "health"), ("health_body", "502 Bad Gateway\n")]);
        let o = outcome(&A, &r, remote("status 502"), None);
        assert_eq!((o.state, o.live), (DeployState::Failed, None));
        assert!(matches!(o.result, Err(Error::Web(WebError::HealthCheck { ref serving, .. })) if serving == "r1"));
        assert!(o.message.contains("502 Bad Gateway"), "{}", o.message);
    }

    #[test]
    fn a_failed_live_check_records_what_the_script_switched_back_to() {
        let r = report(&[("previous", "r1"), ("step", "verify"), ("release", "r1")]);
        let o = outcome(&A, &r, remote("status 500"), None);
        assert_eq!((o.state, o.live.as_deref()), (DeployState::Failed, Some("r1")));
        assert!(matches!(o.result, Err(Error::Web(WebError::LiveCheck { .. }))));
    }

    #[test]
    fn a_locked_site_names_the_holder_even_when_the_connection_dropped() {
        let r = report(&[("locked", "1"), ("holder", "job 7 (deploy) by op on desk")]);
        assert!(!needs_asking(&r, &lost()));
        let o = outcome(&A, &r, lost(), None);
        assert_eq!((o.state, o.live), (DeployState::Failed, None));
        assert!(o.message.contains("job 7 (deploy) by op on desk"), "{}", o.message);
    }

    #[test]
    fn a_lost_connection_says_what_the_server_serves_now() {
        let r = report(&[("previous", "r1"), ("step", "upload")]);
        assert!(needs_asking(&r, &lost()));
        let o = outcome(&A, &r, lost(), Some("r1"));
        assert_eq!((o.state, o.live.as_deref()), (DeployState::Interrupted, Some("r1")));
        assert_eq!(o.message, "connection lost during step upload; release r1 keeps serving, r2 never went live");
        assert!(matches!(o.result, Err(Error::Ssh(SshError::Disconnected { .. }))));

        let r = report(&[("previous", "r1"), ("step", "switch")]);
        let o = outcome(&A, &r, lost(), Some("r2"));
        assert_eq!((o.state, o.live.as_deref()), (DeployState::Live, Some("r2")));
        assert_eq!(o.message, "connection lost after the switch (step switch); release r2 is live");

        let o = outcome(&A, &r, lost(), None);
        assert_eq!((o.state, o.live), (DeployState::Interrupted, None));
        assert!(o.message.contains("could not be asked what serves now"), "{}", o.message);
    }

    #[test]
    fn a_cancel_before_the_switch_is_cancelled_and_says_what_serves() {
        let r = report(&[("previous", "r1"), ("step", "upload")]);
        assert!(needs_asking(&r, &Err(Error::Cancelled)));
        let o = outcome(&A, &r, Err(Error::Cancelled), Some("r1"));
        assert_eq!(o.state, DeployState::Cancelled);
        assert!(matches!(o.result, Err(Error::Web(WebError::Cancelled(ref m))) if m.contains("r1 keeps serving")));
    }

    #[test]
    fn a_failure_before_the_switch_says_what_keeps_serving() {
        let r = report(&[("previous", "r1"), ("step", "build")]);
        assert!(!needs_asking(&r, &remote("npm failed")));
        let o = outcome(&A, &r, remote("npm failed"), None);
        assert_eq!((o.state, o.live), (DeployState::Failed, None));
        assert!(matches!(o.result, Err(Error::Web(WebError::NotLive { ref serving, ref step, .. }))
            if serving == "release r1 keeps serving" && step == "build"));
        let first = Attempt { previous: None, ..A };
        let o = outcome(&first, &r, remote("npm failed"), None);
        assert!(o.message.contains("no release served before it"), "{}", o.message);
    }

    #[test]
    fn a_failed_post_hook_after_the_switch_leaves_the_new_release_live() {
        let r = report(&[("previous", "r1"), ("step", "post-hook"), ("release", "r2")]);
        let o = outcome(&A, &r, remote("hook exited 1"), None);
        assert_eq!((o.state, o.live.as_deref()), (DeployState::Live, Some("r2")));
        assert!(o.result.is_err());
    }
}
