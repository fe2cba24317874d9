use chom_core::keys::KeyError;
use chom_core::{Chom, Error, KeyView, Result, RotateReport, Secret};

use crate::args::KeyCommand;
use crate::output::{ago, clean, json, progress_sink, table};
use crate::paint::{self, Stream};
use crate::secret_input;

pub async fn run(chom: &Chom, cmd: KeyCommand, as_json: bool) -> Result<i32> {
    match cmd {
        KeyCommand::Generate { name } => show(&chom.keys().generate_key(&name)?, as_json),
        KeyCommand::Import { name, file, passphrase_stdin } => {
            let pem = read_key_file(&file)?;
            let view = if passphrase_stdin {
                chom.keys().import_key(&name, &pem, Some(&secret_input::read(true, "")?))?
            } else {
                match chom.keys().import_key(&name, &pem, None) {
                    Err(Error::Key(KeyError::PassphraseRequired)) => chom.keys().import_key(
                        &name,
                        &pem,
                        Some(&secret_input::read(false, "Passphrase for the key: ")?),
                    )?,
                    other => other?,
                }
            };
            show(&view, as_json)
        }
        KeyCommand::List => {
            let keys = chom.keys().list_keys()?;
            if as_json {
                json(&keys);
            } else {
                let rows: Vec<Vec<String>> = keys
                    .iter()
                    .map(|k| {
                        vec![
                            k.name.clone(),
                            k.algorithm.clone(),
                            k.bits.to_string(),
                            k.fingerprint.clone(),
                            k.used_by.join(","),
                        ]
                    })
                    .collect();
                table(&["NAME", "TYPE", "BITS", "FINGERPRINT", "USED BY"], &rows);
            }
        }
        KeyCommand::Agent => {
            let keys = chom.keys().agent_keys().await?;
            if as_json {
                json(&keys);
            } else {
                let rows: Vec<Vec<String>> = keys
                    .iter()
                    .map(|k| {
                        let chom_key = k.chom_key.clone().unwrap_or_else(|| "-".into());
                        vec![k.fingerprint.clone(), k.algorithm.clone(), clean(&k.comment).into(), chom_key]
                    })
                    .collect();
                table(&["FINGERPRINT", "TYPE", "COMMENT", "CHOM KEY"], &rows);
            }
        }
        KeyCommand::AddAgent { name, fingerprint } => {
            show(&chom.keys().add_agent_key(&name, &fingerprint).await?, as_json)
        }
        KeyCommand::Rotate { old, new, select } => {
            let ctl = super::control(progress_sink(!as_json));
            let report = chom.keys().rotate_key(&old, &new, &super::fleet::selection(select), &ctl).await?;
            if as_json {
                json(&report);
            } else {
                print_rotation(&report);
            }
            return Ok(i32::from(report.pending > 0));
        }
        KeyCommand::Rotations { name } => {
            let rows = chom.keys().rotations(&name)?;
            if as_json {
                json(&rows);
            } else {
                let rows: Vec<Vec<String>> = rows
                    .iter()
                    .map(|r| {
                        vec![
                            r.server.clone(),
                            format!("{} -> {}", r.old_key, r.new_key),
                            r.state.as_str().into(),
                            ago(Some(r.updated_at)),
                            clean(&r.detail).into(),
                        ]
                    })
                    .collect();
                table(&["SERVER", "ROTATION", "STATE", "UPDATED", "DETAIL"], &rows);
            }
        }
        KeyCommand::Show { name } => show(&chom.keys().key(&name)?, as_json),
        KeyCommand::ExportPublic { name } => {
            let k = chom.keys().key(&name)?;
            if as_json {
                json(&k)
            } else {
                println!("{}", k.public_key)
            }
        }
        KeyCommand::Delete { name } => {
            let agent = chom.keys().key(&name)?.agent;
            chom.keys().delete_key(&name)?;
            if as_json {
                json(&serde_json::json!({ "deleted": name }));
            } else if agent {
                println!("deleted key {name} (its private half stays in your ssh-agent)");
            } else {
                println!("deleted key {name} (and its private half from the OS keyring)");
            }
        }
    }
    Ok(0)
}

fn print_rotation(r: &RotateReport) {
    for o in &r.results {
        if o.ok {
            println!("{}: {}: {}", o.server, paint::good(Stream::Out, o.state.as_str()), clean(&o.detail));
        } else {
            eprintln!("{}: {}: {}", o.server, paint::warn(Stream::Err, o.state.as_str()), clean(&o.detail));
        }
    }
    println!(
        "key {} -> {}: {} done, {} pending (job {}){}",
        r.old_key,
        r.new_key,
        r.done,
        r.pending,
        r.job_id,
        if r.pending > 0 { "; run the same command again to finish the pending ones" } else { "" }
    );
}

fn show(k: &KeyView, as_json: bool) {
    if as_json {
        return json(k);
    }
    // The same line `ssh-keygen -lf` prints.
    println!(
        "{} {} {} ({})",
        k.bits,
        k.fingerprint,
        k.public_key.split_whitespace().nth(2).unwrap_or(&k.name),
        kind(&k.algorithm)
    );
    println!("{}", k.public_key);
    if !k.used_by.is_empty() {
        println!("used by: {}", k.used_by.join(", "));
    }
}

fn kind(algorithm: &str) -> &'static str {
    match algorithm {
        a if a.contains("ed25519") => "ED25519",
        a if a.starts_with("ecdsa") => "ECDSA",
        a if a.contains("rsa") => "RSA",
        _ => "UNKNOWN",
    }
}

fn read_key_file(path: &std::path::Path) -> Result<Secret> {
    let meta =
        std::fs::metadata(path).map_err(|e| Error::Usage(format!("cannot read key file {}: {e}", path.display())))?;
    if meta.len() > 64 * 1024 {
        return Err(Error::Usage(format!("{} is too large to be an SSH private key", path.display())));
    }
    let bytes =
        std::fs::read(path).map_err(|e| Error::Usage(format!("cannot read key file {}: {e}", path.display())))?;
    String::from_utf8(bytes)
        .map(Secret::new)
        .map_err(|_| Error::Usage(format!("{} is not a text OpenSSH private key file", path.display())))
}
