//! `chom site ...`, `chom deploy`, `chom rollback`, `chom ssl ...`.

use std::io::{BufRead, IsTerminal, Write};

use chom_core::{
    AcmeDirectory, Chom, Error, ReleaseRequest, Result, SiteInput, SiteKind, SiteRecord, SiteRequest, SiteView,
    SourceChoice, WordpressChoice,
};

use super::control;
use crate::args::{DeployArgs, HealthArgs, SiteCommand, SiteCreateArgs, SourceArgs, SslCommand};
use crate::output::{ago, clean, json, table, web_progress};

fn release(source: &SourceArgs, health: &HealthArgs) -> ReleaseRequest {
    ReleaseRequest {
        source: SourceChoice {
            folder: source.from.clone(),
            tarball: source.tarball.clone(),
            git_url: source.git.clone(),
            git_ref: source.git_ref.clone(),
            strip: source.strip,
        },
        health_path: Some(health.health_path.clone()),
        health_text: health.expect.clone(),
        ..ReleaseRequest::default()
    }
}

pub async fn run(chom: &Chom, cmd: SiteCommand, as_json: bool) -> Result<i32> {
    match cmd {
        SiteCommand::Create(args) => create(chom, *args, as_json).await,
        SiteCommand::List { server } => {
            let sites = chom.sites().list_sites(server.as_deref())?;
            if as_json {
                json(&sites);
            } else {
                list(&sites);
            }
            Ok(0)
        }
        SiteCommand::Show { domain } => {
            let d = chom.sites().site_detail(&domain)?;
            if as_json {
                json(&d);
            } else {
                show(&d);
            }
            Ok(0)
        }
        SiteCommand::Enable { domain } => toggle(chom, &domain, true, as_json).await,
        SiteCommand::Disable { domain } => toggle(chom, &domain, false, as_json).await,
        SiteCommand::DashboardUpdates { domain, state } => {
            let site =
                chom.sites().set_dashboard_updates(&domain, state == "on", &control(web_progress(!as_json))).await?;
            if as_json {
                json(&site);
            } else {
                println!("{}: dashboard updates {state}", site.domain);
            }
            Ok(0)
        }
        SiteCommand::Repair { domain } => {
            let r = chom.sites().repair_site(&domain, &control(web_progress(!as_json))).await?;
            if as_json {
                json(&r);
            } else {
                for c in &r.changed {
                    println!("changed: {}", clean(c));
                }
                for u in &r.unchanged {
                    println!("unchanged: {}", clean(u));
                }
            }
            Ok(0)
        }
        SiteCommand::Delete { domain, yes } => {
            let site = chom.sites().site_detail(&domain)?.site;
            if !yes && !confirm_delete(&site)? {
                println!("not deleted");
                return Ok(1);
            }
            chom.sites().delete_site(&domain, &control(web_progress(!as_json))).await?;
            if as_json {
                json(&serde_json::json!({ "deleted": site.domain }));
            } else {
                println!("deleted {} from {}", site.domain, site.server);
            }
            Ok(0)
        }
        SiteCommand::Releases { domain } => {
            let r = chom.deploys().site_releases(&domain).await?;
            if as_json {
                json(&r);
            } else {
                for rel in &r.releases {
                    let live = if r.current.as_deref() == Some(rel.as_str()) { "  <- live" } else { "" };
                    println!("{rel}{live}");
                }
            }
            Ok(0)
        }
    }
}

async fn create(chom: &Chom, args: SiteCreateArgs, as_json: bool) -> Result<i32> {
    let kind =
        SiteKind::parse(&args.kind).ok_or_else(|| Error::Usage("--kind is static, wordpress or laravel".into()))?;
    let request = SiteRequest {
        site: SiteInput {
            domain: args.domain.clone(),
            kind,
            server: args.server.clone(),
            php: args.php.clone(),
            aliases: args.aliases.clone(),
        },
        release: release(&args.source, &args.health),
        wordpress: WordpressChoice {
            title: args.wp_title.clone(),
            admin_user: args.wp_admin.clone(),
            admin_email: args.wp_email.clone(),
            url: args.wp_url.clone(),
            sha1: args.wp_sha1.clone(),
        },
    };
    let launch = chom.sites().launch(&request, &control(web_progress(!as_json))).await?;
    if as_json {
        json(&launch);
        return Ok(0);
    }
    let site = &launch.created.site;
    if let Some(why) = &launch.created.placement {
        println!("{why}");
    }
    println!("created {} site {} on {} (user {})", site.kind.as_str(), site.domain, site.server, site.site_user);
    if let Some(d) = &launch.deploy {
        println!("release {} is live", d.release);
    }
    if let Some(admin) = &launch.wordpress_admin {
        println!(
            "WordPress installed; admin user {admin}. Its password is in the OS keyring only (service chom-desktop, \
             account site-admin:{}): read it with the keyring app, e.g. \
             `secret-tool lookup service chom-desktop username site-admin:{}`",
            site.domain, site.domain
        );
    }
    Ok(0)
}

async fn toggle(chom: &Chom, domain: &str, enabled: bool, as_json: bool) -> Result<i32> {
    let site = chom.sites().set_site_enabled(domain, enabled, &control(web_progress(!as_json))).await?;
    if as_json {
        json(&site);
    } else {
        println!("{} {}", site.domain, if site.enabled { "enabled" } else { "disabled" });
    }
    Ok(0)
}

fn confirm_delete(site: &SiteRecord) -> Result<bool> {
    if !std::io::stdin().is_terminal() {
        return Err(Error::Usage(format!(
            "deleting {} removes its files and database on {}: confirm on a terminal, or pass --yes",
            site.domain, site.server
        )));
    }
    print!(
        "Delete {} from {}: its files, database and certificate? Type the domain to confirm: ",
        site.domain, site.server
    );
    let _ = std::io::stdout().flush();
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).map_err(|e| Error::Usage(format!("cannot read the answer: {e}")))?;
    Ok(line.trim() == site.domain.as_str())
}

fn list(sites: &[SiteView]) {
    let rows: Vec<Vec<String>> = sites
        .iter()
        .map(|s| {
            vec![
                s.domain.to_string(),
                s.kind.as_str().to_owned(),
                s.server.to_string(),
                if s.enabled { "enabled" } else { "disabled" }.to_owned(),
                s.current_release.as_deref().unwrap_or("-").to_owned(),
                match (s.ssl_expires_at, s.ssl_days_left) {
                    (Some(e), Some(d)) if s.ssl_expiring => format!("{} ({d} d: renew)", e.format("%Y-%m-%d")),
                    (Some(e), _) => e.format("%Y-%m-%d").to_string(),
                    (None, _) => "-".into(),
                },
            ]
        })
        .collect();
    table(&["DOMAIN", "KIND", "SERVER", "STATE", "RELEASE", "SSL UNTIL"], &rows);
}

fn show(d: &chom_core::SiteDetail) {
    let s = &d.site;
    println!("domain:   {}", s.domain);
    if !s.aliases.is_empty() {
        let a: Vec<&str> = s.aliases.iter().map(|a| a.as_str()).collect();
        println!("aliases:  {}", a.join(" "));
    }
    println!(
        "kind:     {}{}",
        s.kind.as_str(),
        s.php_version.as_deref().map(|p| format!(" (PHP {p})")).unwrap_or_default()
    );
    println!("server:   {}", s.server);
    println!("user:     {}", s.site_user);
    println!("state:    {}", if s.enabled { "enabled" } else { "disabled" });
    if s.kind == chom_core::web::SiteKind::Wordpress {
        println!(
            "updates:  {}",
            if s.dashboard_updates { "from the dashboard (plugins, themes)" } else { "by deploys only" }
        );
    }
    println!("release:  {}", s.current_release.as_deref().unwrap_or("-"));
    println!("ssl:      {}", s.ssl_expires_at.map_or_else(|| "none".into(), |e| format!("until {e}")));
    if !d.deploys.is_empty() {
        println!("deploys:");
        for r in &d.deploys {
            let msg = if r.message.is_empty() { String::new() } else { format!(": {}", clean(&r.message)) };
            println!(
                "  {} {} {} {:?} at step {:?} ({}){msg}",
                ago(Some(r.started_at)),
                r.kind,
                r.release_id,
                r.state,
                r.step,
                r.source
            );
        }
    }
}

pub async fn deploy(chom: &Chom, args: DeployArgs, as_json: bool) -> Result<i32> {
    let request = ReleaseRequest {
        build_hook: args.build_hook.clone(),
        post_hook: args.post_hook.clone(),
        keep: Some(args.keep),
        ..release(&args.source, &args.health)
    };
    let report = chom.deploys().deploy_release(&args.domain, &request, &control(web_progress(!as_json))).await?;
    if as_json {
        json(&report);
    } else {
        let files = match (report.sent_files, report.reused_files) {
            (0, 0) => "fetched by the server".to_owned(),
            (sent, reused) => format!("{sent} files sent, {reused} unchanged reused on the server"),
        };
        println!(
            "release {} of {} is live (health check HTTP {}; was {}; {files})",
            report.release,
            args.domain,
            report.health_status.as_deref().unwrap_or("?"),
            report.previous.as_deref().unwrap_or("none"),
        );
    }
    Ok(0)
}

pub async fn rollback(chom: &Chom, domain: &str, to: Option<&str>, as_json: bool) -> Result<i32> {
    let to = to.map(chom_core::validate::ReleaseId::parse).transpose()?;
    let r = chom.deploys().rollback(domain, to.as_ref(), &control(web_progress(!as_json))).await?;
    if as_json {
        json(&r);
    } else {
        println!("{domain} now serves release {}", r.current.as_deref().unwrap_or("?"));
    }
    Ok(0)
}

pub async fn ssl(chom: &Chom, cmd: SslCommand, as_json: bool) -> Result<i32> {
    match cmd {
        SslCommand::Issue { domain, staging, acme_url, acme_ca, email } => {
            let acme = match (staging, acme_url) {
                (true, _) => AcmeDirectory::Staging,
                (false, Some(url)) => AcmeDirectory::Custom { url, ca_bundle: acme_ca },
                (false, None) => AcmeDirectory::LetsEncrypt,
            };
            let st = chom
                .sites()
                .issue_certificate(&domain, &acme, email.as_deref(), &control(web_progress(!as_json)))
                .await?;
            if as_json {
                json(&st);
            } else {
                let until = st.expires_at.map_or_else(|| "unknown".into(), |e| e.to_string());
                println!("certificate for {} issued; expires {until}; {} now serves HTTPS", st.domain, st.domain);
            }
            Ok(0)
        }
        SslCommand::Status { domain } => {
            let all = chom.sites().certificate_status(domain.as_deref()).await?;
            if as_json {
                json(&all);
            } else {
                let rows: Vec<Vec<String>> = all
                    .iter()
                    .map(|s| {
                        let state = match (s.days_left, s.expiring) {
                            (None, _) => "no certificate".to_owned(),
                            (Some(d), true) => format!("WARNING: {d} days left"),
                            (Some(d), false) => format!("{d} days left"),
                        };
                        let note = if s.fresh {
                            String::new()
                        } else {
                            format!(" (cached: {})", s.error.as_deref().unwrap_or(""))
                        };
                        vec![
                            s.domain.clone(),
                            s.server.clone(),
                            s.expires_at.map_or_else(|| "-".into(), |e| e.format("%Y-%m-%d %H:%M").to_string()),
                            format!("{state}{note}"),
                        ]
                    })
                    .collect();
                table(&["DOMAIN", "SERVER", "EXPIRES", "STATE"], &rows);
            }
            Ok(i32::from(all.iter().any(|s| s.expiring)))
        }
    }
}
